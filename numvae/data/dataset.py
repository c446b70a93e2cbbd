"""The ``Dataset`` record every loader returns, and ``load_dataset`` by name."""

from __future__ import annotations

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


def load_dataset(name: str, split: str = "train", data_dir=None, download: bool = True,
                 binarize: str | None = None) -> Dataset:
    """Load a data set split by name. Only 'digits' (embedded, offline) for now."""
    from .digits import load_digits

    if name == "digits":
        return apply_binarization(load_digits(split), binarize)
    raise ValueError(f"name must be one of ('digits',), got {name!r}")
