"""Reference solution of exercise 10: property tests that catch every broken KL."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import numvae as nv

moderate = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


@st.composite
def gaussians(draw, n=None, k=None):
    n = draw(st.integers(1, 4)) if n is None else n
    k = draw(st.integers(1, 5)) if k is None else k
    return (draw(arrays(np.float64, (n, k), elements=moderate)),
            draw(arrays(np.float64, (n, k), elements=moderate)))


@given(q=gaussians())
def test_kl_is_nonnegative(kl, q):
    mu, logvar = q
    assert np.all(kl(mu, logvar) >= 0)


@given(n=st.integers(1, 4), k=st.integers(1, 5))
def test_kl_is_zero_at_the_prior(kl, n, k):
    zeros = np.zeros((n, k))
    np.testing.assert_array_equal(kl(zeros, zeros), 0.0)


@given(a=gaussians(n=3), b=gaussians(n=3))
def test_kl_adds_up_over_independent_dimensions(kl, a, b):
    mu, logvar = np.hstack([a[0], b[0]]), np.hstack([a[1], b[1]])
    np.testing.assert_allclose(kl(mu, logvar), kl(*a) + kl(*b), rtol=1e-12, atol=1e-12)


@given(q=gaussians())
def test_kl_is_the_general_formula_for_a_diagonal_covariance(kl, q):
    mu, logvar = q
    k = mu.shape[1]
    cov = np.exp(logvar)[:, :, None] * np.eye(k)
    prior_cov = np.broadcast_to(np.eye(k), cov.shape)
    np.testing.assert_allclose(kl(mu, logvar), nv.kl_mvn(mu, cov, np.zeros_like(mu), prior_cov),
                               rtol=1e-9, atol=1e-9)
