"""The reconstruction term: Bernoulli and Gaussian log-likelihoods and their gradients."""

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import bernoulli_inputs, gaussian_inputs, per_example_weights

import numvae as nv


def test_bernoulli_matches_scipy(rng):
    x = (rng.random((4, 6)) < 0.4).astype(float)
    logits = rng.standard_normal((4, 6)) * 3
    p = 1 / (1 + np.exp(-logits))
    expected = stats.bernoulli.logpmf(x, p).sum(axis=1)
    np.testing.assert_allclose(nv.bernoulli_log_prob(x, logits), expected, rtol=1e-12)


def test_bernoulli_is_stable_for_huge_logits():
    logits = np.array([[1e4, -1e4, 1e4, -1e4, 800.0, -800.0]])
    x = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    out = nv.bernoulli_log_prob(x, logits)
    # confident and right costs nothing; confident and wrong costs |logit| nats
    np.testing.assert_allclose(out, [-(1e4 + 1e4 + 800.0)], rtol=1e-15)
    g = nv.bernoulli_log_prob_grad(x, logits)
    np.testing.assert_array_equal(g, [[0.0, 0.0, -1.0, 1.0, 0.0, 1.0]])


@given(bernoulli_inputs(), st.data())
def test_bernoulli_gradient(inputs, data):
    """d/dlogits of sum_n dout_n log p(x_n): x - sigmoid(logits), row n scaled by dout_n."""
    x, logits = inputs
    dout = data.draw(per_example_weights(x.shape[0]), label="dout")
    g = nv.bernoulli_log_prob_grad(x, logits, dout)
    w = np.ones(x.shape[0]) if dout is None else dout
    np.testing.assert_allclose(g, (x - nv.sigmoid(logits)) * w[:, None], rtol=1e-14, atol=1e-15)
    assert_gradient_matches(g, lambda lg: w * nv.bernoulli_log_prob(x, lg), logits)


@pytest.mark.parametrize("logvar_shape", [(), (1, 5), (5,), (3, 5)])
def test_gaussian_matches_scipy(rng, logvar_shape):
    x, mean = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    logvar = rng.standard_normal(logvar_shape) if logvar_shape else np.float64(0.3)
    expected = stats.norm.logpdf(x, mean, np.exp(0.5 * logvar)).sum(axis=1)
    np.testing.assert_allclose(nv.gaussian_log_prob(x, mean, logvar), expected, rtol=1e-12)


@given(gaussian_inputs())
def test_gaussian_gradients(inputs):
    """dmean and dlogvar of sum_n dout_n log N(x_n | mean_n, exp(logvar)), for every shape
    of logvar: one number, one per pixel, one per example, one per entry, a Python float.
    A shared logvar's gradient is summed over the entries that share it."""
    x, mean, logvar, dout = inputs
    dmean, dlogvar = nv.gaussian_log_prob_grad(x, mean, logvar, dout)
    assert np.shape(dlogvar) == np.shape(logvar) and dlogvar.dtype == np.float64
    w = np.ones(x.shape[0]) if dout is None else dout
    assert_gradient_matches(dmean, lambda m: w * nv.gaussian_log_prob(x, m, logvar), mean, "mean")
    lv = np.array(logvar, dtype=np.float64)  # a Python float is perturbed as a 0-d array
    assert_gradient_matches(dlogvar, lambda v: w * nv.gaussian_log_prob(x, mean, v), lv, "logvar")


def test_gaussian_with_unit_variance_is_half_squared_error_plus_constant(rng):
    x, mean = rng.standard_normal((4, 7)), rng.standard_normal((4, 7))
    nll = -nv.gaussian_log_prob(x, mean, 0.0)
    np.testing.assert_allclose(nll, 0.5 * ((x - mean) ** 2).sum(1) + 3.5 * np.log(2 * np.pi))


def test_bad_targets_and_shapes_name_the_argument(rng):
    with pytest.raises(ValueError, match="x must lie in"):
        nv.bernoulli_log_prob(np.full((2, 3), 1.5), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x and logits"):
        nv.bernoulli_log_prob(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="logits must be finite"):
        nv.bernoulli_log_prob(np.zeros((1, 2)), np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="logvar must broadcast"):
        nv.gaussian_log_prob(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="x must be finite"):
        nv.gaussian_log_prob(np.array([[np.inf]]), np.zeros((1, 1)), 0.0)
