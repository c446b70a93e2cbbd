"""load_dataset on small generated files: where files are looked for, binarization, errors.

Nothing here touches the network: every tiny registry entry's only mirror is a closed
port on 127.0.0.1, and most calls pass download=False.
"""

import dataclasses
import gzip

import numpy as np
import pytest
from test_data_amat import amat_text
from test_data_download import NAMES, SHAPE, SIZES
from test_data_idx import idx_bytes, write_idx

import numvae as nv
from numvae.data import registry
from numvae.data.registry import RemoteFile

NO_MIRROR = ("http://127.0.0.1:9/",)  # the discard port: nothing listens there


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A tiny 'mnist' and the four places it can be found, all empty to start with."""
    files = {split: {"images": RemoteFile(i, "0" * 64), "labels": RemoteFile(lab, "0" * 64)}
             for split, (i, lab) in NAMES.items()}
    where = {"data_dir": tmp_path / "given", "env": tmp_path / "env", "cache": tmp_path / "xdg",
             "system": tmp_path / "system"}
    source = dataclasses.replace(registry.MNIST, files=files, sizes=SIZES, image_shape=SHAPE,
                                 mirrors=NO_MIRROR, system_folders=(str(where["system"]),))
    monkeypatch.setitem(registry.REGISTRY, "mnist", source)
    for folder in where.values():
        folder.mkdir()
    monkeypatch.setenv("NUMVAE_DATA_DIR", str(where["env"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(where["cache"]))
    return where


def put(folder, level, compress=True, splits=("train", "test")):
    """Write the tiny set into ``folder``, every pixel at grey ``level``, labels 0, 1, 2, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in splits:
        n = SIZES[split]
        images, labels = NAMES[split]
        write_idx(folder / (images if compress else images[:-3]), np.full((n, *SHAPE), level, np.uint8),
                  compress)
        write_idx(folder / (labels if compress else labels[:-3]), np.arange(n, dtype=np.uint8) % 10,
                  compress)


def level_loaded(**kwargs):
    """The grey level (0..255) of the tiny set load_dataset finds."""
    ds = nv.load_dataset("mnist", "train", download=False, **kwargs)
    assert ds.x.dtype == np.float32 and ds.x.shape == (SIZES["train"], SHAPE[0] * SHAPE[1])
    np.testing.assert_array_equal(ds.y, np.arange(SIZES["train"]))
    return int(round(float(ds.x[0, 0]) * 255))


def test_lookup_order_data_dir_then_env_then_cache_then_system(places):
    put(places["data_dir"], 10)
    put(places["env"] / "mnist", 20)
    put(places["cache"] / "numvae" / "mnist", 30)
    put(places["system"], 40)
    assert level_loaded(data_dir=places["data_dir"]) == 10
    assert level_loaded() == 20
    for emptied, next_level in ((places["env"] / "mnist", 30), (places["cache"] / "numvae" / "mnist", 40)):
        for path in emptied.iterdir():
            path.unlink()
        assert level_loaded() == next_level


def test_data_dir_may_hold_the_sets_sub_folder(places):
    put(places["data_dir"] / "mnist", 50)
    put(places["env"] / "mnist", 20)
    assert level_loaded(data_dir=str(places["data_dir"])) == 50


def test_a_folder_counts_only_with_every_file_of_the_split(places):
    put(places["data_dir"], 10)
    (places["data_dir"] / NAMES["train"][1]).unlink()  # images without labels
    put(places["env"] / "mnist", 20)
    assert level_loaded(data_dir=places["data_dir"]) == 20


def test_uncompressed_files_are_found_and_read(places):
    put(places["data_dir"], 60, compress=False)
    assert level_loaded(data_dir=places["data_dir"]) == 60


def test_offline_without_files_names_them_and_the_three_ways(places):
    put(places["env"] / "mnist", 20, splits=("train",))
    with pytest.raises(FileNotFoundError) as info:
        nv.load_dataset("mnist", "test", data_dir=places["data_dir"], download=False)
    message = str(info.value)
    assert "mnist split 'test' needs t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in message
    for folder in (places["data_dir"], places["env"] / "mnist", places["cache"] / "numvae" / "mnist",
                   places["system"]):
        assert f"  {folder}\n" in message
    assert "download=False" in message
    for way in ("data_dir=FOLDER", "NUMVAE_DATA_DIR=FOLDER", "FOLDER/mnist/", "download=True"):
        assert way in message


def test_missing_folders_are_named(places, monkeypatch):
    with pytest.raises(FileNotFoundError, match="data_dir must be an existing folder, got '.*nowhere'"):
        nv.load_dataset("mnist", data_dir=places["data_dir"] / "nowhere", download=False)
    monkeypatch.setenv("NUMVAE_DATA_DIR", str(places["env"] / "nowhere"))
    with pytest.raises(FileNotFoundError, match="environment variable NUMVAE_DATA_DIR must be an existing"):
        nv.load_dataset("mnist", download=False)


def test_damaged_local_file_names_the_file(places):
    put(places["data_dir"], 10)
    path = places["data_dir"] / NAMES["train"][0]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is a damaged gzip file"):
        nv.load_dataset("mnist", data_dir=places["data_dir"], download=False)


@pytest.mark.parametrize("n, shape, labels, message", [
    (SIZES["train"] - 1, SHAPE, 0, r"images must have shape \(6, 4, 3\), got \(5, 4, 3\)"),
    (SIZES["train"], (3, 4), 0, r"images must have shape \(6, 4, 3\), got \(6, 3, 4\)"),
    (SIZES["train"], SHAPE, 10, r"labels must lie in 0\.\.9, got 10"),
])
def test_files_of_the_wrong_set_are_refused(places, n, shape, labels, message):
    folder = places["data_dir"]
    write_idx(folder / NAMES["train"][0], np.zeros((n, *shape), np.uint8))
    write_idx(folder / NAMES["train"][1], np.full(SIZES["train"], labels, np.uint8))
    with pytest.raises(ValueError, match=message):
        nv.load_dataset("mnist", data_dir=folder, download=False)


def test_swapped_images_and_labels_are_refused(places):
    folder = places["data_dir"]
    put(folder, 10)
    images, labels = (folder / name for name in NAMES["train"])
    data = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(data)
    with pytest.raises(ValueError, match="has magic number 2049 .* expected 2051"):
        nv.load_dataset("mnist", data_dir=folder, download=False)


def test_binarizations(places):
    folder = places["data_dir"]
    levels = np.arange(SIZES["train"] * SHAPE[0] * SHAPE[1]).reshape(SIZES["train"], *SHAPE) * 3
    write_idx(folder / NAMES["train"][0], levels.astype(np.uint8))
    write_idx(folder / NAMES["train"][1], np.zeros(SIZES["train"], np.uint8))
    grey = nv.load_dataset("mnist", data_dir=folder, download=False)
    assert grey.binarize is None
    np.testing.assert_array_equal(grey.x, levels.reshape(SIZES["train"], -1).astype(np.float32) / 255)
    static = nv.load_dataset("mnist", data_dir=folder, download=False, binarize="static")
    assert static.binarize == "static"
    np.testing.assert_array_equal(static.x, (grey.x > 0.5).astype(np.float32))
    dynamic = nv.load_dataset("mnist", data_dir=folder, download=False, binarize="dynamic")
    assert dynamic.binarize == "dynamic"  # grey levels kept; the training loop draws the bits
    np.testing.assert_array_equal(dynamic.x, grey.x)


@pytest.fixture
def tiny_binarized(tmp_path, monkeypatch):
    files = {s: {"images": RemoteFile(f"binarized_mnist_{s}.amat", "0" * 64)} for s in ("train", "valid")}
    source = dataclasses.replace(registry.BINARIZED_MNIST, files=files, sizes={"train": 5, "valid": 3},
                                 image_shape=(2, 3), mirrors=NO_MIRROR)
    monkeypatch.setitem(registry.REGISTRY, "binarized-mnist", source)
    rng = np.random.default_rng(0)
    bits = {s: rng.integers(0, 2, (n, 6)) for s, n in source.sizes.items()}
    for split, values in bits.items():
        (tmp_path / f"binarized_mnist_{split}.amat").write_text(amat_text(values))
    return tmp_path, bits


@pytest.mark.parametrize("binarize", [None, "static"])
def test_binarized_mnist_is_static_and_unlabelled(tiny_binarized, binarize):
    folder, bits = tiny_binarized
    ds = nv.load_dataset("binarized-mnist", "valid", data_dir=folder, download=False, binarize=binarize)
    np.testing.assert_array_equal(ds.x, bits["valid"].astype(np.float32))
    assert ds.y is None and ds.binarize == "static" and ds.image_shape == (2, 3)


def test_binarized_mnist_refuses_dynamic_and_wrong_row_counts(tiny_binarized):
    folder, bits = tiny_binarized
    with pytest.raises(ValueError, match="binarize='dynamic' needs grey levels, but binarized-mnist"):
        nv.load_dataset("binarized-mnist", data_dir=folder, download=False, binarize="dynamic")
    (folder / "binarized_mnist_train.amat").write_text(amat_text(bits["train"][:4]))
    with pytest.raises(ValueError, match=r"binarized_mnist_train\.amat: binarized-mnist train must have "
                                         r"5 lines \(images\), got 4"):
        nv.load_dataset("binarized-mnist", data_dir=folder, download=False)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"name": "cifar"}, ValueError, r"name must be one of \('digits', 'mnist', 'fashion-mnist', "
                                    r"'binarized-mnist'\), got 'cifar'"),
    ({"name": 7}, TypeError, "name must be a str, got int"),
    ({"name": "mnist", "split": "valid"}, ValueError, r"split must be one of \('train', 'test'\) for mnist"),
    ({"name": "binarized-mnist", "split": "dev"}, ValueError, r"one of \('train', 'valid', 'test'\)"),
    ({"name": "mnist", "binarize": "otsu"}, ValueError, "binarize must be one of"),
    ({"name": "mnist", "download": "yes"}, TypeError, "download must be True or False, got 'yes'"),
    ({"name": "mnist", "data_dir": 3}, TypeError, "data_dir must be a path"),
    ({"name": "digits", "split": "valid"}, ValueError, "split must be 'train' or 'test' for digits"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        nv.load_dataset(**kwargs)


def test_digits_unchanged_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMVAE_DATA_DIR", str(tmp_path))  # an empty folder: digits reads no file
    ds = nv.load_dataset("digits", "test", binarize="static", data_dir=tmp_path)
    assert ds.x.shape == (297, 64) and ds.binarize == "static" and set(np.unique(ds.x)) <= {0.0, 1.0}


def test_a_data_folder_that_does_not_exist_is_an_error_for_digits_too(tmp_path, monkeypatch):
    """Issue 20: a misspelt folder is refused for every data set, naming where it came from."""
    with pytest.raises(FileNotFoundError, match="data_dir must be an existing folder, got .*nowhere"):
        nv.load_dataset("digits", data_dir=tmp_path / "nowhere")
    monkeypatch.setenv("NUMVAE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="environment variable NUMVAE_DATA_DIR must be an existing"):
        nv.load_dataset("digits")


def test_gzip_member_with_trailing_garbage_is_refused(places):
    folder = places["data_dir"]
    put(folder, 10)
    path = folder / NAMES["train"][1]
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(SIZES["train"], np.uint8))) + b"junk")
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz is a damaged gzip file"):
        nv.load_dataset("mnist", data_dir=folder, download=False)


def test_padding_centres_the_images_in_zeros_and_keeps_labels():
    from numvae.data import pad_dataset, pad_images

    digits = nv.load_dataset("digits", "test")
    padded = pad_dataset(digits, (12, 12))
    assert padded.image_shape == (12, 12) and padded.x.shape == (len(digits.x), 144)
    images = padded.x.reshape(-1, 12, 12)
    np.testing.assert_array_equal(images[:, 2:10, 2:10], digits.x.reshape(-1, 8, 8))
    assert not images[:, :2].any() and not images[:, 10:].any() and not images[:, :, :2].any()
    np.testing.assert_array_equal(padded.y, digits.y)
    assert pad_images(np.ones((1, 28 * 28), np.float32), (28, 28), (32, 32)).sum() == 784
    with pytest.raises(ValueError, match="must be at least the image shape"):
        pad_images(digits.x, (8, 8), (6, 8))
