"""Integration: the real files, found through NUMVAE_DATA_DIR (CI sets it; skipped otherwise).

Loaded with download=False, so these tests never touch the network.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import numvae as nv

DATA_DIR = os.environ.get("NUMVAE_DATA_DIR")


def needs(folder):
    return pytest.mark.skipif(not DATA_DIR or not (Path(DATA_DIR) / folder).is_dir(),
                              reason=f"NUMVAE_DATA_DIR/{folder} is not set up")


def check_grey_images(ds, n):
    assert ds.x.shape == (n, 784) and ds.x.dtype == np.float32 and ds.image_shape == (28, 28)
    assert ds.x.min() == 0.0 and ds.x.max() == 1.0
    levels = np.unique(ds.x)  # grey levels k / 255, all of them used in 60000 digits
    np.testing.assert_array_equal(levels, np.arange(levels.size, dtype=np.float32) / np.float32(255))
    assert ds.y.dtype == np.int64 and ds.y.shape == (n,)


@needs("mnist")
def test_mnist_train():
    ds = nv.load_dataset("mnist", "train", download=False)
    check_grey_images(ds, 60000)
    np.testing.assert_array_equal(np.bincount(ds.y, minlength=10),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    assert ds.name == "mnist" and ds.binarize is None


@needs("mnist")
def test_mnist_test_static():
    ds = nv.load_dataset("mnist", "test", download=False, binarize="static")
    assert ds.x.shape == (10000, 784) and set(np.unique(ds.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.bincount(ds.y, minlength=10),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


FASHION_FOUND = bool(DATA_DIR and (Path(DATA_DIR) / "fashion-mnist").is_dir()) or DEBIAN_FASHION.is_dir()


@pytest.mark.skipif(not FASHION_FOUND,
                    reason="no NUMVAE_DATA_DIR/fashion-mnist, no Debian's dataset-fashion-mnist is there")
def test_fashion_mnist_test():
    ds = nv.load_dataset("fashion-mnist", "test", download=False)
    assert ds.x.shape == (10000, 784) and 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(ds.y, minlength=10), [1000] * 10)


@needs("binarized_mnist")
@pytest.mark.parametrize("split, n, mean", [("train", 50000, 0.1306), ("valid", 10000, 0.1311),
                                            ("test", 10000, 0.1325)])
def test_binarized_mnist(split, n, mean):
    ds = nv.load_dataset("binarized-mnist", split, download=False)
    assert ds.x.shape == (n, 784) and ds.x.dtype == np.float32 and ds.y is None
    assert set(np.unique(ds.x)) == {0.0, 1.0} and ds.binarize == "static"
    assert abs(ds.x.mean(dtype=np.float64) - mean) <= 5e-5  # the published 4-digit means
