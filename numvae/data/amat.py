"""Larochelle's .amat text format of binarized MNIST, read at memory speed and checked.

One image per line: D values, each the single character '0' or '1', separated by single
spaces, every line ending in '\\n'. So every line is exactly 2 * D bytes, and the whole
file is an (N, 2D) grid of bytes: even columns hold the digits, odd columns the spaces,
the last column the newlines. Reading it as that grid (``np.frombuffer``) instead of
parsing text line by line (``np.loadtxt``) loads the 78 MB training file in a fraction of
a second, and makes every check one vectorised comparison.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..plumbing.checks import check_positive_int

_ZERO, _ONE, _SPACE, _NEWLINE = (ord(c) for c in "01 \n")


def read_amat(path: str | os.PathLike, n_values: int | None = None) -> np.ndarray:
    """Read a binary .amat file into a uint8 array (N, D) of 0s and 1s.

    path: the file. n_values: the number of values D every line must have (784 for
    binarized MNIST), or None to take it from the first line.
    Raises ValueError naming the file (and the first bad line, 1-based) if the file is
    empty, a line has the wrong length or does not end in '\\n', a value is not '0' or
    '1', or a separator is not a single space.
    """
    if n_values is not None:
        check_positive_int("n_values", n_values)
    path = Path(path)
    raw = np.frombuffer(path.read_bytes(), np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    if newlines.size == 0:
        raise ValueError(f"{path} has no complete line: an .amat file has one image per line")
    row_bytes = 2 * n_values if n_values is not None else int(newlines[0]) + 1
    if row_bytes % 2:
        raise ValueError(
            f"{path}, line 1: {row_bytes} bytes ending in {bytes(raw[max(0, row_bytes - 4):row_bytes])!r}; "
            "a line is D values '0'/'1' each followed by one separator (' ', or '\\n' at the end)"
        )
    n_rows = len(newlines)
    expected_ends = np.arange(1, n_rows + 1) * row_bytes - 1
    if raw.size != n_rows * row_bytes or not np.array_equal(newlines, expected_ends):
        _raise_bad_line(path, raw, newlines, row_bytes)
    grid = raw.reshape(n_rows, row_bytes)
    separators = grid[:, 1:-1:2]
    if not np.all(separators == _SPACE):
        row, col = divmod(int(np.argmax(separators != _SPACE)), separators.shape[1])
        raise ValueError(f"{path}, line {row + 1}: expected a single space after value {col + 1}, "
                         f"found {chr(separators[row, col])!r}")
    values = grid[:, 0::2] - np.uint8(_ZERO)  # '0' -> 0, '1' -> 1, anything else -> not 0/1
    if np.any(values > 1):
        row, col = divmod(int(np.argmax(values > 1)), values.shape[1])
        raise ValueError(f"{path}, line {row + 1}: value {col + 1} is {chr(grid[row, 2 * col])!r}, "
                         "expected '0' or '1'")
    return values


def _raise_bad_line(path: Path, raw: np.ndarray, newlines: np.ndarray, row_bytes: int) -> None:
    """Name the first line whose length is not ``row_bytes`` (values and separators)."""
    n_values = row_bytes // 2
    starts = np.concatenate(([0], newlines[:-1] + 1))
    lengths = newlines - starts + 1
    bad = np.flatnonzero(lengths != row_bytes)
    if bad.size:
        line = int(bad[0])
        raise ValueError(
            f"{path}, line {line + 1}: {int(lengths[line])} bytes, expected {row_bytes} "
            f"({n_values} values '0'/'1' separated by single spaces, then '\\n')"
        )
    raise ValueError(f"{path}: the last line (line {len(newlines) + 1}) does not end with '\\n' "
                     f"({raw.size - int(newlines[-1]) - 1} bytes after the last newline)")
