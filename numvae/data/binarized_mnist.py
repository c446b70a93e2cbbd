"""Binarized MNIST (Larochelle & Murray 2011): the standard likelihood benchmark.

Each MNIST digit was binarized once, by a Bernoulli draw with P(pixel = 1) = its grey
level, and the result fixed forever ("static" binarization), so every paper reports
log p(x) on the same bits. 50000 training, 10000 validation and 10000 test images of
28x28 pixels in three .amat text files; no labels (the rows are not in MNIST's order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .amat import read_amat
from .dataset import Dataset
from .registry import Source


def load_amat_split(source: Source, split: str, paths: dict[str, Path]) -> Dataset:
    """One split from its .amat file: x float32 (N, H*W) of 0s and 1s, y None.

    The returned ``binarize`` is 'static': the data already are a fixed binary draw.
    """
    shape = tuple(source.image_shape)
    values = read_amat(paths["images"], n_values=shape[0] * shape[1])
    n = source.sizes[split]
    if values.shape[0] != n:
        raise ValueError(f"{paths['images']}: {source.name} {split} must have {n} lines (images), "
                         f"got {values.shape[0]}")
    return Dataset(x=values.astype(np.float32), y=None, image_shape=shape, name=source.name,
                   binarize="static")
