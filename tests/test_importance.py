import math

import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp

import numvae as nv
from numvae.data import load_digits


def test_logsumexp_is_stable_and_matches_scipy(rng):
    a = rng.standard_normal((5, 3)) * 50 - 1000
    np.testing.assert_allclose(nv.logsumexp(a, axis=0), scipy_logsumexp(a, axis=0), rtol=1e-13)
    assert np.all(np.isfinite(nv.logsumexp(np.array([[-1e4], [-1e4 - 1]]), axis=0)))


@pytest.fixture(scope="module")
def trained():
    train, test = load_digits("train"), load_digits("test")
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(32,), latent=2))
    rng = np.random.default_rng(0)
    params = model.init_params(rng, dtype=np.float64)
    nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(3e-3), epochs=4, rng=rng)
    return model, params, test.x[:100].astype(np.float64)


def test_k1_is_an_unbiased_elbo_estimate_and_log_weights_are_right(trained):
    model, params, x = trained
    rng = np.random.default_rng(3)
    log_w = nv.log_importance_weights(model, params, x[:4], 2000, rng)
    log_px_z, kl = model.elbo_terms(params, x[:4], rng=rng)
    # E_q[log w] = ELBO exactly; with 2000 draws the mean is within 5 standard errors
    se = log_w.std(0, ddof=1) / math.sqrt(log_w.shape[0])
    many = [model.elbo_terms(params, x[:4], rng=rng) for _ in range(400)]
    elbo = np.mean([lp - k for lp, k in many], axis=0)
    se_elbo = np.std([lp - k for lp, k in many], axis=0, ddof=1) / math.sqrt(400)
    assert np.all(np.abs(log_w.mean(0) - elbo) < 5 * np.hypot(se, se_elbo))
    assert log_px_z.shape == kl.shape == (4,)


def test_iwae_bound_is_above_elbo_and_tightens_with_k(trained):
    model, params, x = trained
    estimates = [nv.iwae_log_px(model, params, x, k, np.random.default_rng(k)).mean()
                 for k in (1, 10, 200)]
    elbo = -nv.evaluate(model, params, x, np.random.default_rng(0))["loss"]
    assert estimates[0] == pytest.approx(elbo, abs=0.5)
    assert estimates[0] < estimates[1] < estimates[2]


def test_estimate_is_logmeanexp_of_the_weights_however_it_is_chunked(trained):
    model, params, x = trained
    k = 50
    log_w = nv.log_importance_weights(model, params, x[:7], k, np.random.default_rng(1))
    expected = scipy_logsumexp(log_w, axis=0) - math.log(k)
    whole = nv.iwae_log_px(model, params, x[:7], k, np.random.default_rng(1), max_samples_per_chunk=10**6)
    np.testing.assert_allclose(whole, expected, rtol=1e-12)
    # k split into pieces of 10 draws, merged by log-sum-exp: the same draws, the same number
    rng = np.random.default_rng(2)
    pieces = np.concatenate([nv.log_importance_weights(model, params, x[:1], 10, rng) for _ in range(5)])
    split = nv.iwae_log_px(model, params, x[:1], k, np.random.default_rng(2), max_samples_per_chunk=10)
    np.testing.assert_allclose(split, scipy_logsumexp(pieces, axis=0) - math.log(k), rtol=1e-12)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        nv.iwae_log_px(model, params, x, 0, np.random.default_rng(0))
