"""The .amat reader on small files written here, well-formed and malformed."""

import numpy as np
import pytest

from numvae.data import read_amat


def amat_text(values: np.ndarray) -> str:
    """Larochelle's layout: values separated by single spaces, one row per line."""
    return "".join(" ".join(str(v) for v in row) + "\n" for row in values)


@pytest.fixture
def bits():
    return np.random.default_rng(0).integers(0, 2, (7, 6), dtype=np.uint8)


def test_round_trip(tmp_path, bits):
    path = tmp_path / "ok.amat"
    path.write_text(amat_text(bits))
    got = read_amat(path, n_values=6)
    np.testing.assert_array_equal(got, bits)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(read_amat(path), bits)  # width taken from the first line


def test_agrees_with_loadtxt(tmp_path, bits):
    path = tmp_path / "ok.amat"
    path.write_text(amat_text(bits))
    np.testing.assert_array_equal(read_amat(path), np.loadtxt(path, dtype=np.uint8))


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("\n", " 1\n", 1), r"line 1: 14 bytes, expected 12"),       # a value too many
    (lambda t: t[:24] + t[26:], r"line 3: 10 bytes, expected 12"),                 # one missing
    (lambda t: t[:24] + "2" + t[25:], r"line 3: value 1 is '2', expected '0' or '1'"),
    (lambda t: t[:25] + "\t" + t[26:], r"line 3: expected a single space after value 1, found '\\t'"),
    (lambda t: t[:-1], r"the last line \(line 7\) does not end with '\\n'"),
    (lambda t: t.replace("\n", "\r\n"), r"line 1: 13 bytes"),                        # Windows line ends
    (lambda t: "", r"has no complete line"),
])
def test_malformed_files_name_the_file_and_line(tmp_path, bits, edit, message):
    path = tmp_path / "bad.amat"
    path.write_bytes(edit(amat_text(bits)).encode())
    with pytest.raises(ValueError, match=r"bad\.amat.*" + message):
        read_amat(path, n_values=6)


def test_crlf_is_refused_without_a_known_width(tmp_path, bits):
    path = tmp_path / "dos.amat"
    path.write_bytes(amat_text(bits).replace("\n", "\r\n").encode())
    with pytest.raises(ValueError, match=r"dos\.amat, line 1: 13 bytes ending in"):
        read_amat(path)


def test_n_values_is_checked(tmp_path, bits):
    path = tmp_path / "ok.amat"
    path.write_text(amat_text(bits))
    with pytest.raises(ValueError, match="line 1: 12 bytes, expected 10"):
        read_amat(path, n_values=5)
    with pytest.raises(ValueError, match="n_values must be a positive integer, got 0"):
        read_amat(path, n_values=0)
