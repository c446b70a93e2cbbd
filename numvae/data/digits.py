"""scikit-learn's embedded 8x8 handwritten digits: the default data set, always offline.

1797 images of 8x8 pixels with grey levels 0..16, scaled here to [0, 1]. The split is
fixed: a permutation from seed 0, the first 1500 images for training and the remaining
297 for testing, so every run and every machine sees the same test set.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset

N_TRAIN = 1500
SPLIT_SEED = 0


def load_digits(split: str = "train") -> Dataset:
    """The digits split 'train' (1500 images) or 'test' (297), x float32 (N, 64) in [0, 1]."""
    from sklearn.datasets import load_digits as sklearn_digits

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' for digits, got {split!r}")
    bunch = sklearn_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(bunch.target))
    idx = order[:N_TRAIN] if split == "train" else order[N_TRAIN:]
    x = (bunch.data[idx] / 16.0).astype(np.float32)
    y = bunch.target[idx].astype(np.int64)
    return Dataset(x=x, y=y, image_shape=(8, 8), name="digits")
