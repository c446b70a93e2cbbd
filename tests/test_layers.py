"""Each primitive's backward against central differences, in float64."""

import numpy as np
import pytest

import numvae as nv

TOL = 1e-6


def check_elementwise(forward, backward, x, rng):
    """Gradient of L = sum(out * G) for random upstream G, analytic vs numeric."""
    out, cache = forward(x)
    G = rng.standard_normal(out.shape)
    analytic = backward(G, cache)
    numeric = nv.numerical_gradient(lambda v: np.sum(forward(v)[0] * G), x)
    return nv.rel_error(analytic, numeric)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softplus"])
def test_elementwise_gradients(name, rng):
    forward = getattr(nv, f"{name}_forward")
    backward = getattr(nv, f"{name}_backward")
    x = rng.standard_normal((6, 7)) * 2
    if name == "relu":  # stay away from the kink, where the derivative is undefined
        x[np.abs(x) < 1e-3] = 0.5
    assert check_elementwise(forward, backward, x, rng) < TOL


def test_linear_gradients(rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = nv.linear_forward(x, W, b)
    G = rng.standard_normal(out.shape)
    dx, dW, db = nv.linear_backward(G, cache)
    loss = lambda: np.sum(nv.linear_forward(x, W, b)[0] * G)  # noqa: E731
    assert nv.rel_error(dx, nv.numerical_gradient(lambda _: loss(), x)) < TOL
    assert nv.rel_error(dW, nv.numerical_gradient(lambda _: loss(), W)) < TOL
    assert nv.rel_error(db, nv.numerical_gradient(lambda _: loss(), b)) < TOL


def test_linear_backward_writes_into_out_and_can_skip_dx(rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = nv.linear_forward(x, W, b)
    G = rng.standard_normal(out.shape)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx, dW_ret, db_ret = nv.linear_backward(G, cache, compute_dx=False, out=(dW, db))
    assert dx is None and dW_ret is dW and db_ret is db
    np.testing.assert_allclose(dW, x.T @ G)
    np.testing.assert_allclose(db, G.sum(0))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softplus"])
def test_dtype_is_preserved(name, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    out, cache = getattr(nv, f"{name}_forward")(x)
    assert out.dtype == np.float32
    assert getattr(nv, f"{name}_backward")(np.ones_like(out), cache).dtype == np.float32


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
