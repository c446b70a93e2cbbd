"""Properties of the Gaussian KL divergences, checked with hypothesis."""

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import (
    diagonal_gaussian,
    kl_normal_inputs,
    kl_standard_normal_inputs,
    mvn_gradient_inputs,
    mvn_pair,
    seeds,
)

import numvae as nv


@given(diagonal_gaussian())
def test_kl_std_is_nonnegative_and_zero_only_at_the_prior(q):
    mu, logvar = q
    kl = nv.kl_standard_normal(mu, logvar)
    assert kl.shape == (mu.shape[0],)
    assert np.all(kl >= 0)
    assert np.all(nv.kl_standard_normal(np.zeros_like(mu), np.zeros_like(mu)) == 0)
    away = (np.abs(mu) > 1e-3).any(1) | (np.abs(logvar) > 1e-3).any(1)
    assert np.all(kl[away] > 0)


@given(st.data())
def test_kl_normal_nonnegative_and_zero_when_equal(data):
    mu_q, lv_q = data.draw(diagonal_gaussian())
    mu_p, lv_p = data.draw(diagonal_gaussian(n=mu_q.shape[0], k=mu_q.shape[1]))
    kl = nv.kl_normal(mu_q, lv_q, mu_p, lv_p)
    assert np.all(kl >= 0)
    np.testing.assert_array_equal(nv.kl_normal(mu_q, lv_q, mu_q, lv_q), 0)


@given(diagonal_gaussian())
def test_three_formulas_agree(q):
    mu, logvar = q
    std = nv.kl_standard_normal(mu, logvar)
    np.testing.assert_allclose(nv.kl_normal(mu, logvar, np.zeros_like(mu), np.zeros_like(mu)), std,
                               rtol=1e-12, atol=1e-12)
    k = mu.shape[1]
    cov0 = np.exp(logvar)[:, :, None] * np.eye(k)
    full = nv.kl_mvn(mu, cov0, np.zeros_like(mu), np.broadcast_to(np.eye(k), cov0.shape))
    np.testing.assert_allclose(full, std, rtol=1e-10, atol=1e-10)


@given(diagonal_gaussian(), diagonal_gaussian())
def test_kl_is_additive_over_independent_dimensions(a, b):
    (mu_a, lv_a), (mu_b, lv_b) = a, b
    n = min(len(mu_a), len(mu_b))
    mu, lv = np.hstack([mu_a[:n], mu_b[:n]]), np.hstack([lv_a[:n], lv_b[:n]])
    np.testing.assert_allclose(
        nv.kl_standard_normal(mu, lv),
        nv.kl_standard_normal(mu_a[:n], lv_a[:n]) + nv.kl_standard_normal(mu_b[:n], lv_b[:n]),
        rtol=1e-12, atol=1e-12)


@given(mvn_pair())
def test_kl_mvn_nonnegative_zero_when_equal_and_batched(pair):
    mu0, cov0, mu1, cov1 = pair
    kl = nv.kl_mvn(mu0, cov0, mu1, cov1)
    assert kl.shape == () and kl >= -1e-10
    assert abs(nv.kl_mvn(mu0, cov0, mu0, cov0)) < 1e-10
    batched = nv.kl_mvn(np.stack([mu0, mu1]), np.stack([cov0, cov1]),
                        np.stack([mu1, mu0]), np.stack([cov1, cov0]))
    np.testing.assert_allclose(batched, [kl, nv.kl_mvn(mu1, cov1, mu0, cov0)], rtol=1e-10)


@given(mvn_pair(), seeds)
def test_kl_mvn_agrees_with_monte_carlo(pair, seed):
    """KL = E_{x~N0}[log N0(x) - log N1(x)]; the estimate is within 5 standard errors."""
    mu0, cov0, mu1, cov1 = pair
    x = stats.multivariate_normal(mu0, cov0).rvs(size=20000, random_state=np.random.default_rng(seed))
    x = x.reshape(20000, -1)
    terms = stats.multivariate_normal(mu0, cov0).logpdf(x) - stats.multivariate_normal(mu1, cov1).logpdf(x)
    terms = np.atleast_1d(terms)
    se = terms.std(ddof=1) / np.sqrt(terms.size)
    assert abs(terms.mean() - nv.kl_mvn(mu0, cov0, mu1, cov1)) < 5 * se + 1e-12


@given(diagonal_gaussian(), seeds)
def test_kl_std_agrees_with_monte_carlo(q, seed):
    mu, logvar = q
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((20000,) + mu.shape)
    z = mu + np.exp(0.5 * logvar) * eps
    log_q = stats.norm.logpdf(z, mu, np.exp(0.5 * logvar)).sum(-1)
    log_p = stats.norm.logpdf(z).sum(-1)
    terms = log_q - log_p
    se = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(terms.mean(0) - nv.kl_standard_normal(mu, logvar)) < 5 * se + 1e-12)


@given(kl_standard_normal_inputs())
def test_kl_standard_normal_gradients(inputs):
    """Of sum_n dout_n KL_n: dmu = dout mu, dlogvar = dout (exp(logvar) - 1) / 2."""
    mu, logvar, dout = inputs
    dmu, dlogvar = nv.kl_standard_normal_grad(mu, logvar, dout)
    w = np.ones(mu.shape[0]) if dout is None else dout
    np.testing.assert_array_equal(dmu, mu * w[:, None])
    np.testing.assert_allclose(dlogvar, 0.5 * np.expm1(logvar) * w[:, None], rtol=1e-14, atol=1e-15)
    terms = lambda _: w * nv.kl_standard_normal(mu, logvar)  # noqa: E731
    assert_gradient_matches(dmu, terms, mu, "mu")
    assert_gradient_matches(dlogvar, terms, logvar, "logvar")


@given(kl_normal_inputs())
def test_kl_normal_gradients(inputs):
    """Of sum_n dout_n KL(q_n || p_n), with respect to both Gaussians' parameters."""
    *args, dout = inputs
    w = np.ones(args[0].shape[0]) if dout is None else dout
    terms = lambda _: w * nv.kl_normal(*args)  # noqa: E731
    for name, g, arg in zip(["mu_q", "logvar_q", "mu_p", "logvar_p"], nv.kl_normal_grad(*args, dout=dout),
                            args, strict=True):
        assert_gradient_matches(g, terms, arg, name)


@given(mvn_gradient_inputs())
def test_mvn_gradients_match_finite_differences(pair):
    """Matrix gradients are checked through the symmetric parameterisation (C + C^T)/2."""
    mu0, cov0, mu1, cov1 = pair
    grads = nv.kl_mvn_grad(mu0, cov0, mu1, cov1)
    sym = lambda c: 0.5 * (c + c.T)  # noqa: E731
    terms = lambda _: nv.kl_mvn(mu0, sym(cov0), mu1, sym(cov1))  # noqa: E731
    for name, g, arg in zip(["mu0", "cov0", "mu1", "cov1"], grads, (mu0, cov0, mu1, cov1), strict=True):
        assert_gradient_matches(g, terms, arg, name)


def test_mvn_gradients_vanish_where_the_kl_is_minimal(rng):
    """Zero gradients, which the finite-difference test excludes: dKL/dS1 at S1 = S0 + d d^T
    (the best S1 for given means and S0), everything at N1 = N0."""
    a = rng.standard_normal((3, 3))
    mu0, mu1, cov0 = rng.standard_normal(3), rng.standard_normal(3), a @ a.T + 0.5 * np.eye(3)
    d = mu1 - mu0
    dcov1 = nv.kl_mvn_grad(mu0, cov0, mu1, cov0 + np.outer(d, d))[3]
    np.testing.assert_allclose(dcov1, 0, atol=1e-12)
    for g in nv.kl_mvn_grad(mu0, cov0, mu0, cov0):
        np.testing.assert_allclose(g, 0, atol=1e-12)


def test_kl_mvn_rejects_bad_covariances():
    with pytest.raises(ValueError, match="cov1 must be positive definite"):
        nv.kl_mvn(np.zeros(2), np.eye(2), np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="cov0 must be symmetric"):
        nv.kl_mvn(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="cov0 must have shape"):
        nv.kl_mvn(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


def test_kl_rejects_mismatched_shapes_and_nan():
    with pytest.raises(ValueError, match="mu and logvar"):
        nv.kl_standard_normal(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="logvar must be finite"):
        nv.kl_standard_normal(np.zeros((1, 2)), np.array([[np.nan, 0.0]]))
