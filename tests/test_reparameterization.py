import numpy as np
import pytest

import numvae as nv


def test_sample_mean_and_variance_match_mu_and_exp_logvar(rng):
    """Catches the classic sigma = exp(logvar) bug: the variance would be exp(2 logvar)."""
    mu = np.array([[0.5, -2.0, 3.0]])
    logvar = np.array([[0.0, 1.5, -2.0]])
    n = 200_000
    eps = rng.standard_normal((n, 3))
    z = nv.reparameterize(np.repeat(mu, n, 0), np.repeat(logvar, n, 0), eps)
    var = np.exp(logvar[0])
    se_mean = np.sqrt(var / n)
    se_var = var * np.sqrt(2 / (n - 1))
    assert np.all(np.abs(z.mean(0) - mu[0]) < 5 * se_mean)
    assert np.all(np.abs(z.var(0, ddof=1) - var) < 5 * se_var)


def test_backward_matches_finite_differences(rng):
    mu, logvar, eps = (rng.standard_normal((4, 3)) for _ in range(3))
    dz = rng.standard_normal((4, 3))
    dmu, dlogvar = nv.reparameterize_backward(dz, mu, logvar, eps)
    f = lambda: np.sum(nv.reparameterize(mu, logvar, eps) * dz)  # noqa: E731
    assert nv.rel_error(dmu, nv.numerical_gradient(lambda _: f(), mu)) < 1e-6
    assert nv.rel_error(dlogvar, nv.numerical_gradient(lambda _: f(), logvar)) < 1e-6


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="mu and eps"):
        nv.reparameterize(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 3)))
