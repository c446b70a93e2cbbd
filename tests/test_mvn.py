"""The full-covariance Gaussian: density against scipy, samples against their moments."""

import numpy as np
import pytest
from hypothesis import given
from scipy import stats
from strategies import spd_matrix

import numvae as nv


@given(spd_matrix(3))
def test_log_prob_matches_scipy(cov):
    rng = np.random.default_rng(0)
    x, mean = rng.standard_normal((5, 3)), rng.standard_normal(3)
    expected = stats.multivariate_normal(mean, cov).logpdf(x)
    np.testing.assert_allclose(nv.mvn_log_prob(x, mean, cov), expected, rtol=1e-10, atol=1e-10)


def test_log_prob_batches_over_covariances(rng):
    a = rng.standard_normal((4, 2, 2))
    covs = a @ a.transpose(0, 2, 1) + 0.3 * np.eye(2)
    x, means = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    expected = [stats.multivariate_normal(m, c).logpdf(v) for v, m, c in zip(x, means, covs, strict=True)]
    np.testing.assert_allclose(nv.mvn_log_prob(x, means, covs), expected, rtol=1e-12)


def test_diagonal_case_is_gaussian_log_prob(rng):
    x, mean, logvar = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(nv.mvn_log_prob(x, mean, np.diag(np.exp(logvar))),
                               nv.gaussian_log_prob(x, mean, np.broadcast_to(logvar, (3, 4))), rtol=1e-12)


def test_samples_have_the_requested_moments(rng):
    mean, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.8], [0.8, 0.5]])
    s = nv.mvn_sample(mean, cov, 200_000, rng)
    np.testing.assert_allclose(s.mean(0), mean, atol=5 * np.sqrt(2.0 / 200_000))
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.02)


def test_bad_covariances_are_named(rng):
    with pytest.raises(ValueError, match="cov must be positive definite"):
        nv.mvn_log_prob(np.zeros((1, 2)), np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="cov must be symmetric"):
        nv.mvn_sample(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), 3, rng)
    with pytest.raises(ValueError, match=r"cov must be \(3, 3\)"):
        nv.mvn_log_prob(np.zeros((1, 3)), np.zeros(3), np.eye(2))
