"""Pathwise and score-function gradient estimators: exact per sample, unbiased on average."""

import math

import numpy as np
import pytest

import numvae as nv

MU, LOGVAR, TARGET = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.7, 0.0]), np.array([1.0, 0.0, -1.0])


def f(z):
    return nv.squared_distance(z, TARGET)[0]


def grad_f(z):
    return nv.squared_distance(z, TARGET)[1]


def test_pathwise_sample_is_the_derivative_at_fixed_eps(rng):
    eps = rng.standard_normal((4, 3))
    dmu, dlogvar = nv.pathwise_gradient(grad_f, MU, LOGVAR, eps)
    for s in range(4):
        def value(mu=MU, logvar=LOGVAR, s=s):
            return f(nv.reparameterize(mu[None], logvar[None], eps[s:s + 1]))[0]
        mu, logvar = MU.copy(), LOGVAR.copy()
        assert nv.rel_error(dmu[s], nv.numerical_gradient(lambda m: value(mu=m), mu)) < 1e-6
        assert nv.rel_error(dlogvar[s], nv.numerical_gradient(lambda v: value(logvar=v), logvar)) < 1e-6


def test_score_sample_is_f_times_the_score(rng):
    eps = rng.standard_normal((3, 3))
    dmu, dlogvar = nv.score_function_gradient(f, MU, LOGVAR, eps, baseline=1.5)
    z = MU + np.exp(0.5 * LOGVAR) * eps
    for s in range(3):
        def log_q(mu=MU, logvar=LOGVAR, s=s):
            return nv.gaussian_log_prob(z[s:s + 1], mu[None], logvar[None])[0]
        mu, logvar = MU.copy(), LOGVAR.copy()
        weight = f(z[s:s + 1])[0] - 1.5
        score_mu = nv.numerical_gradient(lambda m: log_q(mu=m), mu)
        score_logvar = nv.numerical_gradient(lambda v: log_q(logvar=v), logvar)
        assert nv.rel_error(dmu[s], weight * score_mu) < 1e-6
        assert nv.rel_error(dlogvar[s], weight * score_logvar) < 1e-6


def test_expected_squared_distance_and_its_gradient(rng):
    value, dmu, dlogvar = nv.expected_squared_distance(MU, LOGVAR, TARGET)
    mu, logvar = MU.copy(), LOGVAR.copy()
    numeric_mu = nv.numerical_gradient(lambda m: nv.expected_squared_distance(m, LOGVAR, TARGET)[0], mu)
    numeric_logvar = nv.numerical_gradient(lambda v: nv.expected_squared_distance(MU, v, TARGET)[0], logvar)
    assert nv.rel_error(dmu, numeric_mu) < 1e-6
    assert nv.rel_error(dlogvar, numeric_logvar) < 1e-6
    samples = f(MU + np.exp(0.5 * LOGVAR) * rng.standard_normal((200_000, 3)))
    assert abs(samples.mean() - value) < 5 * samples.std() / math.sqrt(samples.size)


@pytest.mark.parametrize("estimator", ["pathwise", "score", "score+baseline"])
def test_estimators_are_unbiased(rng, estimator):
    eps = rng.standard_normal((200_000, 3))
    if estimator == "pathwise":
        dmu, dlogvar = nv.pathwise_gradient(grad_f, MU, LOGVAR, eps)
    else:
        baseline = nv.expected_squared_distance(MU, LOGVAR, TARGET)[0] if "baseline" in estimator else 0.0
        dmu, dlogvar = nv.score_function_gradient(f, MU, LOGVAR, eps, baseline=baseline)
    _, exact_mu, exact_logvar = nv.expected_squared_distance(MU, LOGVAR, TARGET)
    for est, exact in ((dmu, exact_mu), (dlogvar, exact_logvar)):
        se = est.std(0, ddof=1) / math.sqrt(est.shape[0])
        assert np.all(np.abs(est.mean(0) - exact) < 5 * se), (est.mean(0), exact, se)


def test_score_function_has_the_larger_variance_and_a_baseline_reduces_it(rng):
    eps = rng.standard_normal((50_000, 3))
    path = nv.pathwise_gradient(grad_f, MU, LOGVAR, eps)[0].var(0)
    score = nv.score_function_gradient(f, MU, LOGVAR, eps)[0].var(0)
    mean_f = nv.expected_squared_distance(MU, LOGVAR, TARGET)[0]
    based = nv.score_function_gradient(f, MU, LOGVAR, eps, baseline=mean_f)[0].var(0)
    assert np.all(path < based) and np.all(based < score)


def test_bad_input_is_named(rng):
    eps = rng.standard_normal((5, 3))
    with pytest.raises(ValueError, match="eps must have 3 columns"):
        nv.pathwise_gradient(grad_f, MU, LOGVAR, eps[:, :2])
    with pytest.raises(ValueError, match="logvar must have the shape of mu"):
        nv.score_function_gradient(f, MU, LOGVAR[:2], eps)
    with pytest.raises(ValueError, match=r"f\(z\) must return shape \(5,\)"):
        nv.score_function_gradient(lambda z: z, MU, LOGVAR, eps)
    with pytest.raises(ValueError, match="target must have shape"):
        nv.squared_distance(eps, np.zeros(2))
