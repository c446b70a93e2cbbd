"""Posterior-collapse and sample-quality diagnostics of lessons 10 and 11."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import numvae as nv


def test_kl_per_dimension_sums_to_the_kl_term(rng):
    mu, logvar = rng.standard_normal((7, 4)), rng.standard_normal((7, 4))
    per_dim = nv.kl_per_dimension(mu, logvar)
    assert per_dim.shape == (7, 4) and np.all(per_dim >= 0)
    np.testing.assert_allclose(per_dim.sum(1), nv.kl_standard_normal(mu, logvar), rtol=1e-12)
    collapsed = nv.kl_per_dimension(np.zeros((3, 2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(collapsed, 0)


def test_active_units_count_dimensions_that_move_with_x(rng):
    mu = np.column_stack([rng.standard_normal(500), 0.05 * rng.standard_normal(500), np.full(500, 3.0)])
    count, variances = nv.active_units(mu)
    assert count == 1
    np.testing.assert_allclose(variances, mu.var(0))


def test_aggregate_posterior_moments_are_the_mixtures(rng):
    """Mixture of N(mu_n, diag sigma_n^2): compare with a large sample drawn from it."""
    mu, logvar = rng.standard_normal((4, 2)) * 2, rng.standard_normal((4, 2))
    mean, cov = nv.aggregate_posterior_moments(mu, logvar)
    comp = rng.integers(0, 4, size=400_000)
    z = mu[comp] + np.exp(0.5 * logvar[comp]) * rng.standard_normal((400_000, 2))
    np.testing.assert_allclose(mean, z.mean(0), atol=0.02)
    np.testing.assert_allclose(cov, np.cov(z.T, bias=True), atol=0.05)


def test_aggregate_kl_is_zero_when_the_codes_fill_the_prior(rng):
    z = rng.standard_normal((1000, 3))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T  # exactly mean 0, covariance I
    assert nv.aggregate_posterior_kl(z) == pytest.approx(0, abs=1e-10)
    shrunk = np.sqrt(0.75) * z  # codes with variance 0.75 plus posterior variance 0.25 also fill N(0, I)
    assert nv.aggregate_posterior_kl(shrunk, np.full_like(z, np.log(0.25))) == pytest.approx(0, abs=1e-10)
    assert nv.aggregate_posterior_kl(3 * z + 1) > 1


def test_nearest_neighbor_distance_is_brute_force_min(rng):
    samples, data = rng.random((300, 5)), rng.random((40, 5))
    expected = cdist(samples, data).min(1)
    np.testing.assert_allclose(nv.nearest_neighbor_distance(samples, data, block=7), expected, rtol=1e-9)
    np.testing.assert_allclose(nv.nearest_neighbor_distance(data, data), 0, atol=1e-6)


def test_effective_sample_size():
    assert nv.effective_sample_size(np.zeros(10)) == pytest.approx(1.0)
    assert nv.effective_sample_size(np.array([0.0, -1e4, -1e4, -1e4])) == pytest.approx(0.25)
    log_w = np.log(np.array([[1.0, 4.0], [3.0, 4.0]])) - 1000  # two draws (rows) for two examples
    np.testing.assert_allclose(nv.effective_sample_size(log_w), [16 / 10 / 2, 1.0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="mu and logvar must have the same shape"):
        nv.kl_per_dimension(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="mu must hold at least 2 codes"):
        nv.active_units(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="samples and data must have the same number of columns"):
        nv.nearest_neighbor_distance(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="log_w must be finite"):
        nv.effective_sample_size(np.array([0.0, np.nan]))
