"""The categorical model of lesson 01: likelihood, its gradient, MLE and KL."""

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from scipy.special import log_softmax
from strategies import categorical_samples_and_logits, logit_vectors, seeds

import numvae as nv


@given(logit_vectors)
def test_softmax_and_log_prob_match_scipy(logits):
    p = nv.softmax(logits)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-14)
    samples = np.arange(logits.size)
    np.testing.assert_allclose(nv.categorical_log_prob(samples, logits), log_softmax(logits), atol=1e-13)


def test_softmax_is_stable_for_huge_logits():
    p = nv.softmax(np.array([1000.0, 999.0, -1000.0]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[:2], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)], rtol=1e-14)


@given(categorical_samples_and_logits())
def test_log_prob_gradient_against_finite_differences(inputs):
    """d/dtheta sum_n log p(s_n) = counts - N softmax(theta)."""
    samples, logits = inputs
    analytic = nv.categorical_log_prob_grad(samples, logits)
    assert_gradient_matches(analytic, lambda t: nv.categorical_log_prob(samples, t), logits)


def test_gradient_vanishes_at_the_mle(rng):
    samples = rng.integers(0, 4, size=200)
    p_hat = nv.categorical_mle(samples, 4)
    np.testing.assert_allclose(p_hat, np.bincount(samples, minlength=4) / 200)
    grad = nv.categorical_log_prob_grad(samples, np.log(p_hat))
    np.testing.assert_allclose(grad, 0, atol=1e-10)


@given(logit_vectors, seeds)
def test_mean_log_likelihood_is_minus_entropy_minus_kl(logits, seed):
    """1/N sum_n log p_model(s_n) = -H(p_hat) - KL(p_hat || p_model), exactly."""
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, logits.size, size=50)
    p_hat = nv.categorical_mle(samples, logits.size)
    lhs = nv.categorical_log_prob(samples, logits).mean()
    rhs = -nv.categorical_entropy(p_hat) - nv.kl_categorical(p_hat, nv.softmax(logits))
    assert lhs == pytest.approx(rhs, abs=1e-12)


def test_kl_properties():
    p = np.array([0.1, 0.3, 0.6, 0.0])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    assert nv.kl_categorical(p, p) == 0
    assert nv.kl_categorical(p, q) > 0 and nv.kl_categorical(q, p) == np.inf
    expected = 0.1 * np.log(0.4) + 0.3 * np.log(1.2) + 0.6 * np.log(2.4)
    assert nv.kl_categorical(p, q) == pytest.approx(expected, rel=1e-14)
    assert nv.categorical_entropy(p) == pytest.approx(-(0.1 * np.log(0.1) + 0.3 * np.log(0.3)
                                                        + 0.6 * np.log(0.6)), rel=1e-14)


def test_samples_follow_the_probabilities(rng):
    probs = np.array([0.1, 0.3, 0.6, 0.0])
    s = nv.sample_categorical(probs, 20000, rng)
    freq = np.bincount(s, minlength=4) / s.size
    se = np.sqrt(probs * (1 - probs) / s.size)
    assert np.all(np.abs(freq - probs) <= 5 * se)
    assert freq[3] == 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="samples must lie in"):
        nv.categorical_log_prob(np.array([0, 4]), np.zeros(3))
    with pytest.raises(TypeError, match="samples must be integer"):
        nv.categorical_log_prob(np.array([0.0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="probs must be non-negative and sum to 1"):
        nv.sample_categorical(np.array([0.5, 0.6]), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="logits must have shape"):
        nv.softmax(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="p and q must have the same shape"):
        nv.kl_categorical(np.array([1.0]), np.array([0.5, 0.5]))
