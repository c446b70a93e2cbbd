import numpy as np
import pytest

import numvae as nv
from numvae.data import load_digits


def test_training_on_digits_lowers_test_elbo_and_is_reproducible():
    train, test = load_digits("train"), load_digits("test")
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(64,), latent=2))

    def run():
        rng = np.random.default_rng(0)
        params = model.init_params(rng)
        before = nv.evaluate(model, params, test.x, np.random.default_rng(1))
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(lr=3e-3), epochs=5,
                         rng=rng, batch_size=64)
        return before, history, params

    before, history, params = run()
    after = history[-1]["test_loss"]
    assert before["loss"] > 40 and after < 0.75 * before["loss"], (before, after)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5]
    again_before, again, params2 = run()
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in history] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in again]
    assert np.array_equal(params.flat, params2.flat)


def test_sgd_and_adam_match_their_formulas(rng):
    params = nv.ParamDict.from_arrays({"a": rng.standard_normal(3), "b": rng.standard_normal((2, 2))})
    grads = nv.ParamDict.from_arrays({"a": rng.standard_normal(3), "b": rng.standard_normal((2, 2))})
    p0 = params.flat.copy()
    adam = nv.Adam(lr=0.1)
    state = adam.init(params)
    adam.step(params, grads, state)
    adam.step(params, grads, state)
    g = grads.flat
    m = 0.1 * 0.9 * g + 0.1 * g
    v = 0.001 * 0.999 * g**2 + 0.001 * g**2
    expected1 = p0 - 0.1 * g / (np.abs(g) + 1e-8)  # first step moves by lr in sign(g)
    mhat, vhat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected2 = expected1 - 0.1 * mhat / (np.sqrt(vhat) + 1e-8)
    np.testing.assert_allclose(params.flat, expected2, rtol=1e-10)

    params = nv.ParamDict.from_arrays({"a": p0.copy()})
    grads = nv.ParamDict.from_arrays({"a": g.copy()})
    sgd = nv.SGD(lr=0.5, momentum=0.9)
    state = sgd.init(params)
    sgd.step(params, grads, state)
    sgd.step(params, grads, state)
    np.testing.assert_allclose(params.flat, p0 - 0.5 * g - 0.5 * 1.9 * g, rtol=1e-12)


def test_dynamic_binarization_draws_fresh_binary_batches():
    train, test = load_digits("train"), load_digits("test")
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(16,), latent=2))
    rng = np.random.default_rng(0)
    params = model.init_params(rng)
    history = nv.fit(model, params, train.x[:256], test.x[:64], optimizer=nv.Adam(), epochs=2,
                     rng=rng, binarize="dynamic")
    assert all(r["binarize"] == "dynamic" for r in history)


def test_bad_training_arguments_are_named(rng):
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(4,), latent=2))
    params = model.init_params(rng)
    x = load_digits("test").x[:10]
    with pytest.raises(ValueError, match="batch_size"):
        nv.fit(model, params, x, x, optimizer=nv.Adam(), epochs=1, rng=rng, batch_size=0)
    with pytest.raises(ValueError, match="binarize"):
        nv.fit(model, params, x, x, optimizer=nv.Adam(), epochs=1, rng=rng, binarize="yes")
    with pytest.raises(ValueError, match="lr"):
        nv.Adam(lr=-1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=2.5), "epochs must be a whole number >= 0, got 2.5"),
    (dict(epochs=-1), "epochs must be a whole number >= 0"),
    (dict(epochs=2, start_epoch=3), r"start_epoch \(3\) must not exceed epochs \(2\)"),
    (dict(epochs=2, beta=float("nan")), "beta must be a finite number >= 0, got nan"),
    (dict(epochs=2, beta=-1.0), "beta must be a finite number >= 0"),
    (dict(epochs=2, kl_warmup=1.5), "kl_warmup must be a whole number >= 0"),
])
def test_fit_refuses_a_bad_schedule_before_any_work(kwargs, message):
    model = nv.VAE(nv.ModelConfig(64, hidden=(8,)))
    params = model.init_params(np.random.default_rng(0))
    before = params.flat.copy()
    x = nv.load_dataset("digits", "train").x[:50]
    with pytest.raises(ValueError, match=message):
        nv.fit(model, params, x, x, optimizer=nv.Adam(), rng=np.random.default_rng(0), **kwargs)
    np.testing.assert_array_equal(params.flat, before)


def test_the_iwae_objective_refuses_a_kl_weight():
    model = nv.VAE(nv.ModelConfig(64, hidden=(8,), objective="iwae", k=3))
    params = model.init_params(np.random.default_rng(0))
    x = nv.load_dataset("digits", "train").x[:50]
    with pytest.raises(ValueError, match="objective='iwae' has none"):
        nv.fit(model, params, x, x, optimizer=nv.Adam(), epochs=1, rng=np.random.default_rng(0), kl_warmup=3)
    with pytest.raises(ValueError, match="beta must be 1"):
        model.loss_and_grads(params, x, rng=np.random.default_rng(0), beta=0.5)
