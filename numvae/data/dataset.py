"""The ``Dataset`` record every loader returns, binarization, and ``load_dataset`` by name."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """One split of a data set, ready for a model.

    x: float32 (N, D), values in [0, 1] (flattened images).
    y: int64 (N,) class labels, or None when the set has none.
    image_shape: (height, width), with height * width == D.
    name: the data set's name, e.g. 'digits'.
    binarize: None (grey levels), 'static' (thresholded at 0.5) or 'dynamic' (grey
    levels kept here; the training loop draws fresh binary images every epoch).
    """

    x: np.ndarray
    y: np.ndarray | None
    image_shape: tuple[int, int]
    name: str
    binarize: str | None = None

    def __post_init__(self):
        if self.x.ndim != 2 or self.x.shape[1] != self.image_shape[0] * self.image_shape[1]:
            raise ValueError(
                f"x must have shape (N, {self.image_shape[0] * self.image_shape[1]}) for images "
                f"of shape {self.image_shape}, got {self.x.shape}"
            )
        if self.y is not None and self.y.shape != (self.x.shape[0],):
            raise ValueError(f"y must have shape ({self.x.shape[0]},), got {self.y.shape}")

    def __len__(self) -> int:
        return self.x.shape[0]


BINARIZATIONS = (None, "static", "dynamic")


def binarize_static(x: np.ndarray) -> np.ndarray:
    """Threshold grey levels at 0.5: the same binary image every epoch."""
    return (x > 0.5).astype(x.dtype)


def binarize_dynamic(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fresh Bernoulli draw per pixel, P(pixel = 1) = its grey level."""
    return (rng.random(x.shape, dtype=x.dtype) < x).astype(x.dtype)


def apply_binarization(ds: Dataset, binarize: str | None) -> Dataset:
    """Return ``ds`` marked (and, for 'static', thresholded) with ``binarize``."""
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}")
    x = binarize_static(ds.x) if binarize == "static" else ds.x
    return Dataset(x, ds.y, ds.image_shape, ds.name, binarize)


def load_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                 download: bool = True, binarize: str | None = None) -> Dataset:
    """Load one split of a data set by name.

    name: 'digits' (scikit-learn's embedded 8x8 digits, splits 'train'/'test', never
        touches the network or any folder), 'mnist' or 'fashion-mnist' (28x28, splits
        'train' 60000 / 'test' 10000, labels 0-9), 'binarized-mnist' (Larochelle &
        Murray's fixed binary MNIST, splits 'train' 50000 / 'valid' 10000 / 'test' 10000,
        no labels: y is None).
    data_dir: a folder holding the files (or holding the set's sub-folder, e.g. mnist/);
        searched first, then $NUMVAE_DATA_DIR/<set>/, the user cache, system folders.
        ``numvae.data.locate`` documents the order and the folder names. data_dir and
        NUMVAE_DATA_DIR, when given, must be existing folders for every data set (digits
        reads neither, but a misspelt folder is still an error, not a setting ignored).
    download: fetch missing files into the cache (checked against their published
        SHA-256); False to stay offline and raise FileNotFoundError instead.
    binarize: None (grey levels in [0, 1]), 'static' (thresholded at 0.5 here) or
        'dynamic' (grey levels kept; the training loop draws a fresh Bernoulli image per
        batch from its Generator). 'binarized-mnist' is already binary: it comes back
        with binarize='static' for None or 'static', and 'dynamic' is refused.

    Returns a Dataset: x float32 (N, D) in [0, 1], y int64 (N,) or None, image_shape,
    name, binarize. Raises ValueError for an unknown name, split or binarization, or a
    damaged file or download (naming it); FileNotFoundError for a data_dir or
    NUMVAE_DATA_DIR that is not an existing folder, and when the files are neither in
    any folder nor downloadable (the message says how to provide them).
    """
    # Imported here, not at the top: these modules import Dataset from this one.
    from .binarized_mnist import load_amat_split
    from .digits import load_digits
    from .locate import data_folders, find_files
    from .mnist import load_idx_split
    from .registry import REGISTRY

    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}")
    data_folders(data_dir)  # a folder given must exist, whichever set is asked for
    if name == "digits":
        return apply_binarization(load_digits(split), binarize)
    if name not in REGISTRY:
        raise ValueError(f"name must be one of {('digits', *REGISTRY)}, got {name!r}")
    source = REGISTRY[name]
    if source.format == "amat" and binarize == "dynamic":
        raise ValueError(
            f"binarize='dynamic' needs grey levels, but {name} is already binary (a fixed draw); "
            "use binarize=None or 'static' with it, or 'dynamic' with 'mnist'"
        )
    paths = find_files(source, split, data_dir=data_dir, download=download)
    if source.format == "amat":
        return load_amat_split(source, split, paths)
    return apply_binarization(load_idx_split(source, split, paths), binarize)
