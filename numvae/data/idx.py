"""The IDX format of MNIST and Fashion-MNIST: read a file and check every byte of it.

Layout (every integer big-endian):

    bytes 0-1        0x00 0x00
    byte  2          element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                     0x0D float32, 0x0E float64
    byte  3          number of dimensions d >= 1
    bytes 4 .. 4+4d  the d sizes, uint32 each
    then             prod(sizes) elements, row-major (last index fastest), nothing after

Read as one big-endian uint32, the first four bytes are the "magic number": 2051 =
0x00000803 (uint8, 3-D) for image files (N, 28, 28), 2049 = 0x00000801 (uint8, 1-D) for
label files (N,). The files are usually gzip-compressed; gzip is recognised by its first
two bytes (1f 8b), not by the file name, so a decompressed copy reads the same way.

A file that is cut short, has bytes left over, is not IDX, or is of the other kind raises
a ValueError naming the file: never a silently short array.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
GZIP_MAGIC = b"\x1f\x8b"

# IDX element type code -> big-endian NumPy dtype.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_KINDS = {IMAGES_MAGIC: "images (uint8, 3-D)", LABELS_MAGIC: "labels (uint8, 1-D)"}


def read_file_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if they start with the gzip magic; errors name the file."""
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ValueError(
            f"{path} is a damaged gzip file ({type(err).__name__}: {err}); it is truncated or "
            "corrupted: delete it and download or copy it again"
        ) from err


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip or plain) into an array of its declared shape and type.

    path: the file. magic: the magic number the file must have (2051 for MNIST images,
    2049 for labels), or None to accept any valid IDX file.
    Returns a new, writable array in native byte order, shape = the header's sizes.
    Raises ValueError (naming the file) for a damaged gzip stream, a header that is not
    IDX, the wrong magic number, or a payload shorter or longer than the header promises.
    """
    path = Path(path)
    data = read_file_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path} is not an IDX file: {len(data)} bytes, too short for the 4-byte magic")
    file_magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{path} is not an IDX file: magic number {file_magic} (0x{file_magic:08x}); IDX "
            f"starts with 0x0000, a type code in {sorted(IDX_TYPES)} and at least one dimension"
        )
    if magic is not None and file_magic != magic:
        raise ValueError(
            f"{path} has magic number {file_magic} ({_KINDS.get(file_magic, 'another IDX kind')}), "
            f"expected {magic} ({_KINDS.get(magic, 'IDX')}): is this the right file?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated: its header declares {ndim} dimensions but the file "
                         f"ends after {len(data)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        problem = "truncated" if found < expected else "too long"
        raise ValueError(
            f"{path} is {problem}: its header declares shape {shape} of {dtype.name} "
            f"({expected} bytes of data), but {found} bytes follow the header"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable native-order copy
