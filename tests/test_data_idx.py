"""The IDX reader: round trips of files written here, and clear errors for damaged ones.

``write_idx`` below builds IDX bytes with ``struct`` straight from the format's
definition, independently of the reader; the download tests import it too.
"""

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import idx_arrays

from numvae.data import read_idx
from numvae.data.idx import IMAGES_MAGIC, LABELS_MAGIC

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
              np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: 0, 0, type code, ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, TYPE_CODES[array.dtype.type], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def mnist_like(n=5, h=4, w=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_images_and_labels(tmp_path, compress):
    images, labels = mnist_like()
    got_images = read_idx(write_idx(tmp_path / "img", images, compress), IMAGES_MAGIC)
    got_labels = read_idx(write_idx(tmp_path / "lab", labels, compress), LABELS_MAGIC)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == np.uint8 and got_images.flags.writeable


@given(idx_arrays, st.booleans())
def test_round_trip_any_type_and_shape(array, compress):
    with tempfile.TemporaryDirectory() as folder:
        got = read_idx(write_idx(Path(folder) / "a.idx", array, compress))
    assert got.shape == array.shape and got.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    images, _ = mnist_like()
    plain = write_idx(tmp_path / "looks-compressed.gz", images, compress=False)
    packed = write_idx(tmp_path / "looks-plain.idx", images, compress=True)
    np.testing.assert_array_equal(read_idx(plain), read_idx(packed))


def test_truncated_gzip_names_the_file(tmp_path):
    images, _ = mnist_like(n=50)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:-40])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is a damaged gzip file"):
        read_idx(path)


def test_corrupted_gzip_names_the_file(tmp_path):
    images, _ = mnist_like(n=50)
    data = bytearray(gzip.compress(idx_bytes(images)))
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the deflate stream
    path = tmp_path / "flipped.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"flipped\.gz is a damaged gzip file"):
        read_idx(path)


def test_wrong_magic_names_file_and_both_kinds(tmp_path):
    _, labels = mnist_like()
    path = write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(ValueError, match=r"labels\.gz has magic number 2049 \(labels.*expected 2051 "
                                         r"\(images"):
        read_idx(path, IMAGES_MAGIC)


@pytest.mark.parametrize("cut, problem", [(1, "truncated"), (-7, "too long")])
def test_payload_must_match_header_exactly(tmp_path, cut, problem):
    images, _ = mnist_like()
    data = idx_bytes(images)
    data = data[:-cut] if cut > 0 else data + bytes(-cut)
    path = tmp_path / "bad-length"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(ValueError, match=rf"bad-length is {problem}: .*shape \(5, 4, 3\) of uint8 "
                                         rf"\(60 bytes of data\), but {60 - cut} bytes follow"):
        read_idx(path)


@pytest.mark.parametrize("data, what", [
    (b"\x00\x00", "too short"),
    (b"PK\x03\x04rest", "not an IDX file: magic number"),          # a zip, say
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "not an IDX file"),     # unknown type code
    (bytes([0, 0, 0x08, 0]), "not an IDX file"),                     # no dimensions
    (bytes([0, 0, 0x08, 3, 0, 0, 0, 2]), "truncated: its header declares 3 dimensions"),
])
def test_not_idx_is_refused_with_the_file_name(tmp_path, data, what):
    path = tmp_path / "odd-file"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=rf"odd-file .*{what}|odd-file is {what}"):
        read_idx(path)
