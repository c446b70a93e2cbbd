"""Each primitive's backward against central differences, in float64, over hypothesis draws."""

import warnings

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from hypothesis import strategies as st
from strategies import activation_inputs, elu_alphas, float32_arrays, linear_inputs, upstream_gradients

import numvae as nv

SMOOTH = ["sigmoid", "tanh", "softplus"]
KINKED = ["relu", "elu"]  # a kink at 0: drawn away from it (strategies.activation_inputs)
ELEMENTWISE = SMOOTH + KINKED


def layer(name):
    return getattr(nv, f"{name}_forward"), getattr(nv, f"{name}_backward")


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(data=st.data())
def test_elementwise_gradients(name, data):
    """dL/dx for L = sum(dout * f(x)), dout random: every entry of the Jacobian's diagonal."""
    forward, backward = layer(name)
    x = data.draw(activation_inputs(kink_at_zero=name in KINKED), label="x")
    dout = data.draw(upstream_gradients(x.shape), label="dout")
    out, cache = forward(x)
    assert_gradient_matches(backward(dout, cache), lambda v: dout * forward(v)[0], x)


@given(st.data())
def test_elu_gradients_for_any_alpha(data):
    """alpha scales the negative side (value and slope); the default 1 is not special-cased."""
    x = data.draw(activation_inputs(kink_at_zero=True), label="x")
    alpha = data.draw(elu_alphas, label="alpha")
    dout = data.draw(upstream_gradients(x.shape), label="dout")
    out, cache = nv.elu_forward(x, alpha)
    np.testing.assert_allclose(out, np.where(x > 0, x, alpha * (np.exp(x) - 1)), rtol=1e-14, atol=1e-15)
    assert_gradient_matches(nv.elu_backward(dout, cache), lambda v: dout * nv.elu_forward(v, alpha)[0], x)


@given(linear_inputs(), st.data())
def test_linear_gradients(inputs, data):
    x, W, b = inputs
    out, cache = nv.linear_forward(x, W, b)
    dout = data.draw(upstream_gradients(out.shape), label="dout")
    grads = nv.linear_backward(dout, cache)
    for name, analytic, arg in zip("xWb", grads, (x, W, b), strict=True):
        assert_gradient_matches(analytic, lambda _: dout * nv.linear_forward(x, W, b)[0], arg, name)


def test_linear_backward_writes_into_out_and_can_skip_dx(rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = nv.linear_forward(x, W, b)
    G = rng.standard_normal(out.shape)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx, dW_ret, db_ret = nv.linear_backward(G, cache, compute_dx=False, out=(dW, db))
    assert dx is None and dW_ret is dW and db_ret is db
    np.testing.assert_allclose(dW, x.T @ G)
    np.testing.assert_allclose(db, G.sum(0))


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(x=float32_arrays())
def test_float32_is_kept_and_outputs_stay_finite_for_any_input(name, x):
    """Any finite float32, however large: float32 out and dx, finite, and no warning.

    (The one overflow numvae expects, exp(-x) in sigmoid for x < -88, is silenced there.)
    """
    forward, backward = layer(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = forward(x)
        dx = backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))


def test_elu_at_extremes_and_at_the_kink():
    x = np.array([-1e308, -800.0, -1.0, -0.0, 0.0, 1e-300, 1.0, 800.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = nv.elu_forward(x, alpha=2.0)
        dx = nv.elu_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(out[[0, 1, 3, 4, 5, 6, 7, 8]], [-2, -2, 0, 0, 1e-300, 1, 800, 1e308])
    assert out[2] == pytest.approx(2 * np.expm1(-1), rel=1e-15)
    # slope alpha e^x on the left (alpha at the kink itself), 1 on the right
    np.testing.assert_array_equal(dx[[0, 1, 3, 4, 5, 6, 7, 8]], [0, 0, 2, 2, 1, 1, 1, 1])
    assert dx[2] == pytest.approx(2 * np.exp(-1), rel=1e-15)
    # expm1, not exp(x) - 1: full relative accuracy just left of 0
    assert nv.elu_forward(np.array([-1e-10]))[0][0] == pytest.approx(-1e-10 + 5e-21, rel=1e-15)


def test_elu_float32_with_a_numpy_alpha_stays_float32():
    out, cache = nv.elu_forward(np.array([-1.0, 2.0], dtype=np.float32), alpha=np.float64(1.5))
    assert out.dtype == np.float32 and nv.elu_backward(np.ones_like(out), cache).dtype == np.float32


def test_stable_functions_at_extremes():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    s = nv.sigmoid(x)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    sp = nv.softplus(x)
    np.testing.assert_allclose(sp, [0.0, np.log1p(np.exp(-50.0)), np.log(2), 50.0, 1e4], rtol=1e-15)


def test_linear_rejects_mismatched_shapes(rng):
    with pytest.raises(ValueError, match="W"):
        nv.linear_forward(rng.standard_normal((2, 3)), rng.standard_normal((4, 5)), np.zeros(5))
    with pytest.raises(ValueError, match="b"):
        nv.linear_forward(rng.standard_normal((2, 3)), rng.standard_normal((3, 5)), np.zeros(4))


@pytest.mark.parametrize("alpha", [0.0, -1.0, np.inf, np.nan])
def test_elu_rejects_a_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a positive finite number"):
        nv.elu_forward(np.zeros(2), alpha)


@pytest.mark.parametrize("dtype, ulps", [(np.float64, 1.0), (np.float32, 4.0)])
def test_log1p_is_as_accurate_as_numpys_over_every_binade(dtype, ulps):
    from numvae.layers import log1p

    rng = np.random.default_rng(0)
    info = np.finfo(dtype)
    t = np.concatenate([np.exp(rng.uniform(np.log(info.tiny), 0, 200_000)), rng.uniform(0, 1, 100_000),
                        [0.0, info.eps / 4, info.eps, 1.0]]).astype(dtype)
    exact = np.log1p(t.astype(np.float64))  # float64 log1p, correctly rounded to well below float32
    got = log1p(t)
    assert got.dtype == dtype
    assert np.all(np.abs(got - exact) <= ulps * np.spacing(exact.astype(dtype)).astype(np.float64))
    assert np.array_equal(log1p(t[t < info.eps / 2]), t[t < info.eps / 2])  # log1p(t) = t below eps / 2
