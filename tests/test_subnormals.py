"""No subnormal numbers in the training state or the hot path, and the flush changes nothing else.

A subnormal float32 (0 < |x| < 1.2e-38) makes arithmetic up to 15x slower on some Intel
processors; numvae flushes them to zero where training makes them (numvae/subnormals.py).
These tests check where they would appear, and that flushing them changes no result.
"""

import numpy as np
import pytest
from hypothesis import given
from strategies import very_negative_float32_logits

import numvae as nv
from numvae import iwae, layers, likelihoods, optim
from numvae.subnormals import count_subnormals, flush_constant, flush_subnormals

F32, F64 = np.finfo(np.float32), np.finfo(np.float64)


def all_bit_patterns_sample(dtype, n, seed=0):
    """n floats of ``dtype`` with uniformly random bits: every binade, subnormals included."""
    uint = np.uint32 if dtype == np.float32 else np.uint64
    bits = np.random.default_rng(seed).integers(0, np.iinfo(uint).max, size=n, dtype=uint)
    x = bits.view(dtype)
    return x[np.isfinite(x)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_zeroes_every_subnormal_and_moves_nothing_that_matters(dtype):
    info = np.finfo(dtype)
    x = all_bit_patterns_sample(dtype, 2_000_000)
    # make sure both signs of subnormals are in the sample, at the edges of the range
    edges = np.array([info.smallest_subnormal, -info.smallest_subnormal, info.tiny * 0.999,
                      -info.tiny * 0.999, info.tiny, -info.tiny, 0.0, -0.0], dtype=dtype)
    x = np.concatenate([x, edges])
    subnormal = (x != 0) & (np.abs(x) < info.tiny)
    assert count_subnormals(x) == np.count_nonzero(subnormal) > 0
    y = flush_subnormals(x.copy())
    assert count_subnormals(y) == 0
    assert np.all(y[subnormal] == 0)
    normal = ~subnormal
    moved = normal & (y != x)
    # Only numbers below 4 C / eps (1e-23 in float32) can move: above it C is less than
    # half their last-place unit. They move by at most one unit in the last place of |x| + C
    # (half a unit rounding x + C, and half again subtracting C when x + C < C / 2).
    c = flush_constant(dtype)
    assert moved.any() and np.all(np.abs(x[moved]) < 4 * c / info.eps)
    bound = np.spacing(np.abs(x[moved]) + c)
    assert np.all(np.abs(y[moved] - x[moved]) <= bound)
    large = np.abs(x) >= 4 * c / info.eps
    assert np.array_equal(y[large], x[large])


def test_flush_keeps_infinities_nans_and_refuses_non_float_arrays():
    x = np.array([np.inf, -np.inf, np.nan, 1.0], dtype=np.float32)
    y = flush_subnormals(x.copy())
    assert y[0] == np.inf and y[1] == -np.inf and np.isnan(y[2]) and y[3] == 1.0
    with pytest.raises(TypeError, match="a must be a floating-point numpy array"):
        flush_subnormals(np.arange(3))
    with pytest.raises(TypeError, match="a must be a floating-point numpy array"):
        flush_subnormals([1.0, 2.0])


@pytest.mark.parametrize("optimizer", [nv.Adam(lr=1e-3), nv.Adam(lr=1e-3, block=1000), nv.SGD(0.01, 0.9)])
def test_many_steps_with_zero_gradients_leave_no_subnormal_state(optimizer):
    # A quarter of the gradients are exactly zero from step 10 on (MNIST's blank border
    # pixels): without the flush, their m (or SGD velocity) decays through the subnormal
    # range, 0.9^t from ~1e-3 reaches 1e-38 after ~800 steps and stays subnormal ~150 more.
    rng = np.random.default_rng(0)
    params = nv.ParamDict.from_arrays({"W": rng.standard_normal((40, 50)).astype(np.float32),
                                       "b": np.zeros(50, np.float32)})
    grads = params.zeros_like()
    state = optimizer.init(params)
    seen = 0
    for t in range(1200):
        grads.flat[:] = rng.standard_normal(grads.flat.size).astype(np.float32) * 1e-3
        if t >= 10:
            grads.flat[:500] = 0
        grads.flat[500:510] = np.float32(1e-39)  # subnormal gradients come in too
        optimizer.step(params, grads, state)
        arrays = [a for a in state.values() if isinstance(a, np.ndarray)]
        seen += sum(count_subnormals(a) for a in arrays) + count_subnormals(grads.flat)
    assert seen == 0
    assert np.all(np.isfinite(params.flat))


def test_without_the_flush_the_same_steps_do_make_subnormals(monkeypatch):
    # The test above would pass vacuously if the steps never made subnormals: show they do.
    monkeypatch.setattr(optim, "flush_subnormals", lambda a: a)
    rng = np.random.default_rng(0)
    params = nv.ParamDict.from_arrays({"W": np.zeros((40, 50), np.float32)})
    grads, opt = params.zeros_like(), nv.Adam(lr=1e-3)
    state = opt.init(params)
    most = 0
    for t in range(1200):
        grads.flat[:] = rng.standard_normal(grads.flat.size).astype(np.float32) * 1e-3
        if t >= 10:
            grads.flat[:500] = 0
        opt.step(params, grads, state)
        most = max(most, count_subnormals(state["m"]))
    assert most > 100


@pytest.mark.parametrize("logit", [-87.5, -88.0, -100.0, -1e4])
def test_likelihood_gradient_at_very_negative_float32_logits_has_no_subnormals(logit):
    x = np.zeros((4, 6), np.float32)
    x[0, 0] = 1.0
    logits = np.full((4, 6), logit, np.float32)
    dout = np.full(4, -1 / 128, np.float32)  # the training step's d loss / d log p
    log_px, grad = nv.bernoulli_log_prob(x, logits), nv.bernoulli_log_prob_grad(x, logits, dout)
    assert grad.dtype == np.float32 and count_subnormals(grad) == 0
    assert count_subnormals(nv.bernoulli_log_prob_grad(x, logits)) == 0
    assert count_subnormals(nv.sigmoid(logits)) == 0 and count_subnormals(nv.softplus(logits)) == 0
    assert np.all(np.isfinite(log_px))
    # sigmoid(l) / 128 is below 1.2e-38 here, so the gradient of the blank pixels is 0
    assert np.all(grad[x == 0] == 0)


@given(very_negative_float32_logits)
def test_sigmoid_and_softplus_never_return_subnormals(logit):
    x = np.full(3, logit, np.float32)
    s, sp = nv.sigmoid(x), nv.softplus(x)
    assert count_subnormals(s) == 0 and count_subnormals(sp) == 0
    # what remains is the exact value to float32 rounding, give or take the flush's
    # half unit in the last place of 3e-31 (1.2e-38): below 1.2e-38 it is exactly 0
    exact = 1 / (1 + np.exp(-np.float64(logit)))
    assert s[0] == 0 if exact < F32.tiny / 2 else abs(s[0] - exact) <= 2 * F32.eps * exact + F32.tiny


def test_gaussian_inverse_variance_and_iwae_weights_have_no_subnormals():
    assert count_subnormals(likelihoods._inverse_variance(np.full((2, 3), 88.0, np.float32))) == 0
    assert count_subnormals(likelihoods._inverse_variance(np.asarray(88.0, np.float32))) == 0
    x = np.zeros((2, 3), np.float32)
    value = nv.gaussian_log_prob(x, x + 1, np.float32(88.0))
    assert value.dtype == np.float32 and np.all(np.isfinite(value))
    # log-weights 720 nats below the best one: exp(-720) is subnormal in float64
    log_w = np.array([[0.0, -1.0], [-720.0, -730.0]])
    assert count_subnormals(np.exp(log_w - log_w.max(axis=0))) > 0  # the unflushed weights
    weights_seen = []
    real_flush = iwae.flush_subnormals

    def spy(a):
        out = real_flush(a)
        weights_seen.append(out.copy())
        return out

    iwae.flush_subnormals = spy
    try:
        value = iwae.logsumexp(log_w, axis=0)
    finally:
        iwae.flush_subnormals = real_flush
    assert weights_seen and all(count_subnormals(w) == 0 for w in weights_seen)
    assert value == pytest.approx([np.log1p(np.exp(-720.0)), -1.0 + np.log1p(np.exp(-729.0))], rel=1e-12)


def test_training_gives_the_same_losses_with_and_without_the_flush(monkeypatch):
    # Decoder biases of -90 put every pixel's logit where sigmoid(l) is subnormal or
    # tiny, as the blank pixels of a long run: the flush acts on every step here.
    data = nv.load_dataset("digits", "train").x[:256]
    model = nv.VAE(nv.ModelConfig(64, hidden=(32,), latent=3))

    def run():
        rng = np.random.default_rng(3)
        params = model.init_params(rng)
        params["dec.out.b"][:8] = -90.0
        opt = nv.Adam(lr=1e-3)
        state = opt.init(params)
        losses = [nv.train_epoch(model, params, data, opt, state, rng, batch_size=32)["loss"]
                  for _ in range(3)]
        return losses, params.flat.copy()

    flushed, params_flushed = run()
    for module in (optim, layers, likelihoods):
        monkeypatch.setattr(module, "flush_subnormals", lambda a: a)
    raw, params_raw = run()
    assert flushed == pytest.approx(raw, rel=1e-6)
    assert np.max(np.abs(params_flushed - params_raw)) < 1e-6
