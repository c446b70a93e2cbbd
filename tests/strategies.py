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
