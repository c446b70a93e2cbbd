"""z = mu + exp(logvar / 2) eps: its distribution and its gradients."""

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from hypothesis import strategies as st
from strategies import reparameterization_inputs, upstream_gradients

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


@given(reparameterization_inputs(), st.data())
def test_backward_matches_finite_differences(inputs, data):
    """For fixed eps: dmu = dz, dlogvar = dz exp(logvar / 2) eps / 2."""
    mu, logvar, eps = inputs
    dz = data.draw(upstream_gradients(mu.shape), label="dz")
    dmu, dlogvar = nv.reparameterize_backward(dz, mu, logvar, eps)
    terms = lambda _: dz * nv.reparameterize(mu, logvar, eps)  # noqa: E731
    assert_gradient_matches(dmu, terms, mu, "mu")
    assert_gradient_matches(dlogvar, terms, logvar, "logvar")


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="mu and eps"):
        nv.reparameterize(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 3)))
