"""Hypothesis strategies shared by the tests (one place, as in minitorch)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, width=64)
logvars = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, width=64)


@st.composite
def diagonal_gaussian(draw, n=None, k=None):
    """(mu, logvar), each (N, K) float64 with moderate values."""
    n = draw(st.integers(1, 4)) if n is None else n
    k = draw(st.integers(1, 5)) if k is None else k
    mu = draw(arrays(np.float64, (n, k), elements=finite))
    logvar = draw(arrays(np.float64, (n, k), elements=logvars))
    return mu, logvar


@st.composite
def spd_matrix(draw, k):
    """A well-conditioned symmetric positive-definite (k, k) matrix A A^T + 0.5 I."""
    a = draw(arrays(np.float64, (k, k), elements=st.floats(-1.5, 1.5, allow_nan=False)))
    return a @ a.T + 0.5 * np.eye(k)


@st.composite
def mvn_pair(draw):
    """(mu0, cov0, mu1, cov1) for one pair of k-dimensional Gaussians."""
    k = draw(st.integers(1, 4))
    mu0 = draw(arrays(np.float64, (k,), elements=finite))
    mu1 = draw(arrays(np.float64, (k,), elements=finite))
    return mu0, draw(spd_matrix(k)), mu1, draw(spd_matrix(k))


# --- Convolutions (numvae.convolution) --------------------------------------------------
# Hypothesis draws the shapes and hyperparameters; the values are standard normal from a
# drawn seed, so that a gradient check never meets a near-zero kernel whose tiny true
# gradient drowns in the finite differences' rounding. Each case is a dict of keyword
# arguments: nv.conv2d_forward(**case).


@st.composite
def _conv_hyperparameters(draw):
    """Kernel (KH, KW) in 1..4 and stride in 1..3: ints when square, else (rows, columns) pairs."""
    if draw(st.booleans()):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        return (k, k), (s, s), True
    return ((draw(st.integers(1, 4)), draw(st.integers(1, 4))),
            (draw(st.integers(1, 3)), draw(st.integers(1, 3))), False)


def _normal_arrays(draw, *shapes):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return [rng.standard_normal(shape) for shape in shapes]


@st.composite
def conv2d_case(draw, max_extra=4):
    """{x, W, b, stride, padding} for conv2d_forward, float64, small enough to check.

    x (N, C_in, H, W) with N in 1..2, channels in 1..3, padding in 0..2, and H, W from
    the smallest that fits the kernel (KH - 2 ph, at least 1) to ``max_extra`` more.
    """
    (kh, kw), (sh, sw), square = draw(_conv_hyperparameters())
    ph = draw(st.integers(0, 2))
    pw = ph if square else draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), max(1, kh - 2 * ph) + max_extra))
    w = draw(st.integers(max(1, kw - 2 * pw), max(1, kw - 2 * pw) + max_extra))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, W, b = _normal_arrays(draw, (n, c_in, h, w), (c_out, c_in, kh, kw), (c_out,))
    stride, padding = ((sh, ph) if square else ((sh, sw), (ph, pw)))
    return {"x": x, "W": W, "b": b, "stride": stride, "padding": padding}


@st.composite
def conv_transpose2d_case(draw, max_size=5):
    """{x, W, b, stride, padding, output_padding} for conv_transpose2d_forward, float64.

    x (N, C_in, H, W) with H, W in 1..``max_size``; output_padding below the stride;
    padding in 0..2 but never so large that the output (H - 1) s - 2 p + K + op is empty.
    """
    (kh, kw), (sh, sw), square = draw(_conv_hyperparameters())
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    oph = draw(st.integers(0, sh - 1))
    opw = oph if square else draw(st.integers(0, sw - 1))
    ph = draw(st.integers(0, min(2, ((h - 1) * sh + kh + oph - 1) // 2)))
    pw = draw(st.integers(0, min(2, ((w - 1) * sw + kw + opw - 1) // 2)))
    if square:
        w, pw = h, ph
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, W, b = _normal_arrays(draw, (n, c_in, h, w), (c_in, c_out, kh, kw), (c_out,))
    stride, padding, output_padding = (sh, ph, oph) if square else ((sh, sw), (ph, pw), (oph, opw))
    return {"x": x, "W": W, "b": b, "stride": stride, "padding": padding, "output_padding": output_padding}
