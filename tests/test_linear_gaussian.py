"""The linear-Gaussian model of lessons 03 and 04: every closed form against an independent route."""

import math

import numpy as np
import pytest
from scipy import stats

import numvae as nv


@pytest.fixture
def lg(rng):
    return nv.LinearGaussian.random(data_dim=5, latent_dim=3, rng=rng, noise_std=0.4)


def random_q(rng, n, k, full=True):
    mean = rng.standard_normal((n, k))
    if not full:
        return mean, np.diag(np.exp(rng.standard_normal(k)))
    a = rng.standard_normal((n, k, k)) * 0.5
    return mean, a @ a.transpose(0, 2, 1) + 0.1 * np.eye(k)


def test_evidence_matches_scipy(lg, rng):
    x, _ = lg.sample(6, rng)
    mean, cov = lg.marginal()
    np.testing.assert_allclose(lg.log_marginal(x), stats.multivariate_normal(mean, cov).logpdf(x), rtol=1e-12)


def test_posterior_is_bayes_rule(lg, rng):
    """log p(z|x) = log p(x|z) + log p(z) - log p(x) at arbitrary z."""
    x, _ = lg.sample(4, rng)
    z = rng.standard_normal((4, 3)) * 2
    np.testing.assert_allclose(lg.log_posterior(z, x), lg.log_joint(x, z) - lg.log_marginal(x), atol=1e-10)


@pytest.mark.parametrize("full", [True, False], ids=["full-q", "diagonal-q"])
def test_elbo_identity_to_numerical_precision(lg, rng, full):
    x, _ = lg.sample(4, rng)
    q_mean, q_cov = random_q(rng, 4, 3, full)
    elbo, gap = lg.elbo(x, q_mean, q_cov), lg.kl_to_posterior(x, q_mean, q_cov)
    np.testing.assert_allclose(elbo + gap, lg.log_marginal(x), atol=1e-10)
    assert np.all(gap > 0)


def test_gap_is_zero_at_the_true_posterior(lg, rng):
    x, _ = lg.sample(3, rng)
    m, S = lg.posterior(x)
    np.testing.assert_allclose(lg.elbo(x, m, S), lg.log_marginal(x), atol=1e-10)
    np.testing.assert_allclose(lg.kl_to_posterior(x, m, S), 0, atol=1e-10)


def test_closed_forms_against_monte_carlo(lg, rng):
    """E_q[log p(x|z)] and the ELBO as the defining integral E_q[log p(x,z) - log q(z)]."""
    x, _ = lg.sample(1, rng)
    q_mean, q_cov = random_q(rng, 1, 3)
    z = nv.mvn_sample(q_mean[0], q_cov[0], 100_000, rng)
    xs = np.broadcast_to(x, (z.shape[0], 5))
    log_lik = lg.log_likelihood(xs, z)
    integrand = lg.log_joint(xs, z) - nv.mvn_log_prob(z, q_mean[0], q_cov[0])
    for mc, exact in ((log_lik, lg.expected_log_likelihood(x, q_mean, q_cov)[0]),
                      (integrand, lg.elbo(x, q_mean, q_cov)[0])):
        se = mc.std(ddof=1) / math.sqrt(mc.size)
        assert abs(mc.mean() - exact) < 5 * se


def test_samples_have_the_marginal_moments(lg, rng):
    x, z = lg.sample(200_000, rng)
    mean, cov = lg.marginal()
    np.testing.assert_allclose(x.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05 * np.abs(cov).max())
    assert z.shape == (200_000, 3)


def test_bad_input_is_named(lg):
    with pytest.raises(ValueError, match="x must have 5 columns"):
        lg.log_marginal(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"q_cov must have shape \(3, 3\) or \(2, 3, 3\)"):
        lg.elbo(np.zeros((2, 5)), np.zeros((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match="q_cov must be positive definite"):
        lg.elbo(np.zeros((2, 5)), np.zeros((2, 3)), -np.eye(3))
    with pytest.raises(ValueError, match="b must have shape"):
        nv.LinearGaussian(np.zeros((4, 2)), np.zeros(3), 0.0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        nv.LinearGaussian.random(3, 2, rng=0)
