"""Properties of the Gaussian KL divergences, checked with hypothesis."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats
from strategies import diagonal_gaussian, mvn_pair

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
        nv.kl_standard_normal(mu, lv), nv.kl_standard_normal(mu_a[:n], lv_a[:n]) + nv.kl_standard_normal(mu_b[:n], lv_b[:n]),
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


@given(mvn_pair(), st.integers(0, 2**32 - 1))
def test_kl_mvn_agrees_with_monte_carlo(pair, seed):
    """KL = E_{x~N0}[log N0(x) - log N1(x)]; the estimate is within 5 standard errors."""
    mu0, cov0, mu1, cov1 = pair
    x = stats.multivariate_normal(mu0, cov0).rvs(size=20000, random_state=np.random.default_rng(seed))
    x = x.reshape(20000, -1)
    terms = stats.multivariate_normal(mu0, cov0).logpdf(x) - stats.multivariate_normal(mu1, cov1).logpdf(x)
    terms = np.atleast_1d(terms)
    se = terms.std(ddof=1) / np.sqrt(terms.size)
    assert abs(terms.mean() - nv.kl_mvn(mu0, cov0, mu1, cov1)) < 5 * se + 1e-12


@given(diagonal_gaussian(), st.integers(0, 2**32 - 1))
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


@given(st.data())
def test_diagonal_gradients_match_finite_differences(data):
    mu, logvar = data.draw(diagonal_gaussian())
    mu_p, lv_p = data.draw(diagonal_gaussian(n=mu.shape[0], k=mu.shape[1]))
    dmu, dlv = nv.kl_standard_normal_grad(mu, logvar)
    np.testing.assert_array_equal(dmu, mu)
    np.testing.assert_allclose(dlv, 0.5 * (np.exp(logvar) - 1), rtol=1e-12, atol=1e-15)
    # A relative error means nothing for an identically zero gradient (mu = 0 or
    # logvar = 0 everywhere); the exact formulas above already cover those points.
    assume(np.abs(mu).max() > 1e-3 and np.abs(logvar).max() > 1e-3)
    f = lambda: nv.kl_standard_normal(mu, logvar).sum()  # noqa: E731
    assert nv.rel_error(dmu, nv.numerical_gradient(lambda _: f(), mu)) < 1e-6
    assert nv.rel_error(dlv, nv.numerical_gradient(lambda _: f(), logvar)) < 1e-6
    assume(np.abs(mu - mu_p).max() > 1e-3 and np.abs(logvar - lv_p).max() > 1e-3)
    args = [mu, logvar, mu_p, lv_p]
    for g, arg in zip(nv.kl_normal_grad(*args), args, strict=True):
        num = nv.numerical_gradient(lambda _: nv.kl_normal(*args).sum(), arg)
        assert nv.rel_error(g, num) < 1e-6


@given(mvn_pair())
def test_mvn_gradients_match_finite_differences(pair):
    """Matrix gradients are checked through the symmetric parameterisation (C + C^T)/2."""
    mu0, cov0, mu1, cov1 = (a.copy() for a in pair)
    assume(np.abs(mu0 - mu1).max() > 1e-3 and np.abs(cov0 - cov1).max() > 1e-3)
    grads = nv.kl_mvn_grad(mu0, cov0, mu1, cov1)
    sym = lambda c: 0.5 * (c + c.T)  # noqa: E731
    f = lambda: float(nv.kl_mvn(mu0, sym(cov0), mu1, sym(cov1)))  # noqa: E731
    for g, arg in zip(grads, (mu0, cov0, mu1, cov1), strict=True):
        numeric = nv.numerical_gradient(lambda _: f(), arg)
        if np.abs(g).max() < 1e-12:
            # A truly zero gradient (e.g. dKL/dS1 when S1 = S0 + d d^T, the optimum over S1):
            # a relative error is undefined; the finite difference must vanish too.
            assert np.abs(numeric).max() < 1e-9
        else:
            assert nv.rel_error(g, numeric) < 1e-6


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
