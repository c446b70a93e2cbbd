"""The data of each published setup, and the images its figures were measured on.

CS236's grader measures on 100 test images: ten of each digit, at hand-written positions
among that digit's test images (codebase/utils.py, get_mnist_index), binarized once with
numpy's legacy generator seeded 0 (static_binarize: np.random.seed(0), then
np.random.binomial(1, x) on the 100 x 784 grey levels in float32). numpy's legacy
RandomState is frozen, so RandomState(0).binomial draws those very images here.

Burda et al. binarize the test images at random as they read them (datasets.py); here
every test image is binarized once by numpy.random.default_rng(0), the same draw for every
run. pythae measures on Larochelle's fixed binary test set.
"""

from __future__ import annotations

import numpy as np

import numvae as nv
from numvae.data.dataset import binarize_dynamic, binarize_static

# CS236 get_mnist_index(i, test=True): row d holds the positions, among the test images of
# digit d in file order, of the ten images the grader uses.
CS236_TEST_INDEX = np.array([
    [684, 559, 629, 192, 835, 763, 707, 359, 9, 723],
    [277, 599, 1094, 600, 314, 705, 551, 87, 174, 849],
    [537, 845, 72, 777, 115, 976, 755, 448, 850, 99],
    [984, 177, 755, 797, 659, 147, 910, 423, 288, 961],
    [265, 697, 639, 544, 543, 714, 244, 151, 675, 510],
    [459, 882, 183, 28, 802, 128, 128, 53, 550, 488],
    [756, 273, 335, 388, 617, 42, 442, 543, 888, 257],
    [57, 291, 779, 430, 91, 398, 611, 908, 633, 84],
    [203, 324, 774, 964, 47, 639, 131, 972, 868, 180],
    [1000, 846, 143, 660, 227, 954, 791, 719, 909, 373],
])


class DataError(Exception):
    """Missing data files: reported in one line."""


def load_data(setup, args) -> dict:
    """{'name', 'train', 'valid' (or None), 'test', 'test_y', 'binarize'} for the setup.

    'binarize' is what the training loop does per batch ('dynamic' or None). --dataset
    digits stands in the embedded 8x8 digits: binarized per batch, or thresholded once
    for the statically binarized setups, whose validation set is then the last fifth.
    """
    limit = args.limit
    try:
        if args.dataset == "digits":
            train, test = nv.load_dataset("digits", "train"), nv.load_dataset("digits", "test")
            x, tx = train.x, test.x
            if setup.binarize == "static":
                x, tx = binarize_static(x), binarize_static(tx)
            cut = len(x) * 4 // 5
            valid = x[cut:] if setup.select_on_valid else None
            x = x[:cut] if setup.select_on_valid else x
            return {"name": "digits", "train": x[:limit], "valid": valid, "test": tx, "test_y": test.y,
                    "binarize": "dynamic" if setup.binarize == "dynamic" else None}
        if setup.dataset == "mnist":
            train = nv.load_dataset("mnist", "train", data_dir=args.data_dir, download=False)
            test = nv.load_dataset("mnist", "test", data_dir=args.data_dir, download=False)
            x = train.x[:setup.train_images] if setup.train_images else train.x
            return {"name": "mnist", "train": x[:limit], "valid": None, "test": test.x, "test_y": test.y,
                    "binarize": "dynamic"}
        split = {s: nv.load_dataset("binarized-mnist", s, data_dir=args.data_dir, download=False).x
                 for s in ("train", "valid", "test")}
        return {"name": "binarized-mnist", "train": split["train"][:limit], "valid": split["valid"],
                "test": split["test"], "test_y": None, "binarize": None}
    except FileNotFoundError as err:
        raise DataError(f"{setup.dataset} not found: pass --data-dir DIR or set NUMVAE_DATA_DIR to a folder "
                        f"holding mnist/ and binarized_mnist/ ({str(err).splitlines()[0]})") from None


def cs236_grader_images(x: np.ndarray, y: np.ndarray, digits: bool) -> np.ndarray:
    """The grader's 100 images in its order (digit 0's ten first), binarized as it does.

    On the 8x8 digits (smoke tests) the first ten test images of each digit stand in.
    """
    rows = [np.flatnonzero(y == d)[:10] if digits else np.flatnonzero(y == d)[CS236_TEST_INDEX[d]]
            for d in range(10)]
    grey = x[np.concatenate(rows)]  # float32 level / 255, as torch's .float() / 255
    binary = np.random.RandomState(0).binomial(1, grey)  # static_binarize: np.random.seed(0)
    return binary.astype(np.float32)


def evaluation_images(setup, data: dict, limit: int | None) -> tuple[np.ndarray, str]:
    """The images the setup's figures are measured on, and a sentence saying which."""
    kind = setup.evaluation.images
    if kind == "cs236-grader":
        x = cs236_grader_images(data["test"], data["test_y"], data["name"] == "digits")
        about = ("the CS236 grader's 100 test images (ten per digit, get_mnist_index), binarized once "
                 "by numpy.random.RandomState(0).binomial as its static_binarize does")
    elif kind == "test-dynamic":
        x = binarize_dynamic(data["test"], np.random.default_rng(0))
        about = f"all {len(x)} {data['name']} test images, binarized once by numpy.random.default_rng(0)"
    else:
        x = data["test"]
        about = f"all {len(x)} images of the fixed binary {data['name']} test set"
    if limit is not None and limit < len(x):
        x = x[:limit]
        about = f"the first {limit} of " + about
    return x, about
