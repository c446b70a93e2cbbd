"""The fully visible logistic autoregressive model of lesson 02."""

import itertools

import numpy as np
import pytest

import numvae as nv
from numvae.data import load_digits


def all_binary_images(d):
    return np.array(list(itertools.product([0.0, 1.0], repeat=d)))


@pytest.fixture
def model_and_params(rng):
    model = nv.LogisticAutoregressive(8)
    params = model.init_params(rng, dtype=np.float64)
    params["W"][...] = rng.standard_normal((8, 8)) * model.mask
    params["b"][...] = rng.standard_normal(8)
    return model, params


def test_mask_is_strictly_upper_triangular():
    m = nv.autoregressive_mask(4)
    np.testing.assert_array_equal(m, [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])


def test_exact_density_sums_to_one_over_all_images(model_and_params):
    model, params = model_and_params
    total = np.exp(model.log_prob(params, all_binary_images(8))).sum()
    assert total == pytest.approx(1.0, abs=1e-12)


def test_logit_i_depends_only_on_earlier_pixels(model_and_params, rng):
    model, params = model_and_params
    x = (rng.random((5, 8)) < 0.5).astype(float)
    base = model.logits(params, x)
    for j in range(8):
        flipped = x.copy()
        flipped[:, j] = 1 - flipped[:, j]
        changed = np.any(model.logits(params, flipped) != base, axis=0)
        assert not changed[: j + 1].any(), f"flipping pixel {j} changed a logit at or before it"


def test_log_prob_is_the_chain_rule_product(model_and_params, rng):
    model, params = model_and_params
    x = (rng.random((6, 8)) < 0.5).astype(float)
    W, b = params["W"], params["b"]
    total = np.zeros(6)
    for i in range(8):
        p_i = 1 / (1 + np.exp(-(x[:, :i] @ W[:i, i] + b[i])))
        total += np.where(x[:, i] == 1, np.log(p_i), np.log(1 - p_i))
    np.testing.assert_allclose(model.log_prob(params, x), total, rtol=1e-12)


def test_gradients_against_finite_differences(model_and_params, rng):
    model, params = model_and_params
    x = (rng.random((7, 8)) < 0.4).astype(float)
    parts, grads = model.loss_and_grads(params, x)
    assert parts.loss == pytest.approx(-model.log_prob(params, x).mean(), rel=1e-14)
    errors = nv.check_gradients(lambda: model.loss(params, x).loss, params, grads)
    assert max(errors.values()) < 1e-6, errors
    assert np.all(grads["W"][model.mask == 0] == 0)


def test_samples_have_the_model_distribution(rng):
    model = nv.LogisticAutoregressive(3)
    params = model.init_params(rng, dtype=np.float64)
    params["W"][...] = np.array([[0, 2.0, -1.5], [0, 0, 1.0], [0, 0, 0]])
    params["b"][...] = [0.3, -1.0, 0.5]
    s = model.sample(params, 100_000, rng)
    patterns = s @ np.array([4, 2, 1])
    freq = np.bincount(patterns.astype(int), minlength=8) / s.shape[0]
    probs = np.exp(model.log_prob(params, all_binary_images(3)))
    se = np.sqrt(probs * (1 - probs) / s.shape[0])
    assert np.all(np.abs(freq - probs) < 5 * se)


def test_fit_trains_it_on_binarized_digits():
    train = load_digits("train").x[:300]
    x = (train > 0.5).astype(np.float32)
    model = nv.LogisticAutoregressive(64)
    rng = np.random.default_rng(0)
    params = model.init_params(rng)
    history = nv.fit(model, params, x[:250], x[250:], optimizer=nv.Adam(1e-2), epochs=5, rng=rng)
    assert history[-1]["test_loss"] < history[0]["test_loss"] - 1
    assert params.flat.dtype == np.float32
    assert np.all(params["W"][model.mask == 0] == 0)


def test_bad_input_is_named(model_and_params):
    model, params = model_and_params
    with pytest.raises(ValueError, match="x must have 8 features"):
        model.log_prob(params, np.zeros((2, 7)))
    with pytest.raises(ValueError, match="x must lie in"):
        model.log_prob(params, np.full((2, 8), 2.0))
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        nv.LogisticAutoregressive(0)
