"""Zero padding around images: MNIST's 28 x 28 becomes the lecture's 32 x 32.

The convolutional VAE halves each side twice, and the lecture works on 32 x 32 images;
MNIST's digits are 28 x 28 on a black background, so two rows and two columns of zeros
on every side change nothing in the picture (the background stays black).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .dataset import Dataset


def pad_images(x: np.ndarray, image_shape: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """Zero-pad flattened images (N, H*W) to (N, TH*TW), centred (the odd pixel at the end).

    Shapes: x (N, H * W) -> (N, TH * TW), same dtype; TH >= H and TW >= W.
    """
    (h, w), (th, tw) = tuple(image_shape), tuple(target)
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != h * w:
        raise ValueError(f"x must have shape (N, {h * w}) for images of shape {(h, w)}, got {x.shape}")
    if th < h or tw < w:
        raise ValueError(f"target {(th, tw)} must be at least the image shape {(h, w)} (padding only adds)")
    top, left = (th - h) // 2, (tw - w) // 2
    out = np.zeros((x.shape[0], th, tw), dtype=x.dtype)
    out[:, top:top + h, left:left + w] = x.reshape(-1, h, w)
    return out.reshape(x.shape[0], th * tw)


def pad_dataset(data: Dataset, target: tuple[int, int]) -> Dataset:
    """The same Dataset with every image zero-padded to ``target`` (labels unchanged)."""
    return replace(data, x=pad_images(data.x, data.image_shape, target), image_shape=tuple(target))
