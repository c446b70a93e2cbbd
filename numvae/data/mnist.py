"""MNIST and Fashion-MNIST: 28x28 grey images with labels 0-9, stored as IDX files.

MNIST (LeCun, Cortes, Burges): handwritten digits, 60000 training and 10000 test images.
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): Zalando's article photos (T-shirt, trouser,
pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot) in the same format, a
harder drop-in replacement.

Grey levels 0..255 become x = level / 255 in float32, flattened row by row to (N, 784).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import Dataset
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from .registry import Source


def load_idx_split(source: Source, split: str, paths: dict[str, Path]) -> Dataset:
    """One split from its IDX files: x float32 (N, H*W) in [0, 1], y int64 (N,).

    Checks, naming the file: N and (H, W) as the registry says for this split, and labels
    in 0 .. n_classes - 1 (so swapped or foreign files cannot pass as the real ones).
    """
    images = read_idx(paths["images"], IMAGES_MAGIC)
    labels = read_idx(paths["labels"], LABELS_MAGIC)
    n, shape = source.sizes[split], tuple(source.image_shape)
    if images.shape != (n, *shape):
        raise ValueError(f"{paths['images']}: {source.name} {split} images must have shape "
                         f"{(n, *shape)}, got {images.shape}")
    if labels.shape != (n,):
        raise ValueError(f"{paths['labels']}: {source.name} {split} labels must have shape ({n},), "
                         f"got {labels.shape}")
    if source.n_classes is not None and labels.max() >= source.n_classes:
        raise ValueError(f"{paths['labels']}: labels must lie in 0..{source.n_classes - 1}, "
                         f"got {int(labels.max())}")
    x = images.reshape(n, -1).astype(np.float32)
    x /= 255
    return Dataset(x=x, y=labels.astype(np.int64), image_shape=shape, name=source.name)
