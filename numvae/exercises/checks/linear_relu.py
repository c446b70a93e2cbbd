"""Checks for exercise 2: the linear layer and ReLU, forward and backward.

The references are ``numvae.linear_forward/backward`` and ``numvae.relu_forward/backward``.
Backward passes are called with the cache of the student's own forward pass, and are
also compared with finite differences of that forward pass.
"""

from __future__ import annotations

import numpy as np

from ... import layers
from ...gradcheck import numerical_gradient
from ..compare import CheckFailure, assert_close, call, need, unpack
from . import CheckList

CHECKS = CheckList()
N, D, M = 4, 5, 3


def _linear_inputs(rng):
    return (rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal(M),
            rng.standard_normal((N, M)))


def _student_linear(student, x, W, b, dout):
    """The student's (dx, dW, db) from their own forward pass's cache."""
    _, cache = unpack(call(need(student, "linear_forward"), x, W, b), ("out", "cache"),
                      "linear_forward(x, W, b)")
    return unpack(call(need(student, "linear_backward"), dout, cache), ("dx", "dW", "db"),
                  "linear_backward(dout, cache)")


def _reference_linear(x, W, b, dout):
    _, cache = layers.linear_forward(x, W, b)
    return layers.linear_backward(dout, cache)


@CHECKS("linear_forward: out = x W + b")
def linear_forward(student, rng):
    x, W, b, _ = _linear_inputs(rng)
    out, _ = unpack(call(need(student, "linear_forward"), x, W, b), ("out", "cache"),
                    "linear_forward(x, W, b)")
    expected, _ = layers.linear_forward(x, W, b)
    assert_close("out", out, expected, mistakes={"the bias b is missing: out = x W + b": x @ W})


@CHECKS("linear_backward: dx = dout W^T")
def linear_dx(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    dx, _, _ = _student_linear(student, x, W, b, dout)
    assert_close("dx (gradient with respect to x)", dx, _reference_linear(x, W, b, dout)[0],
                 shape_hint="dx has the shape of x, (N, D)")


@CHECKS("linear_backward: dW = x^T dout")
def linear_dW(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    _, dW, _ = _student_linear(student, x, W, b, dout)
    assert_close("dW (gradient with respect to W)", dW, _reference_linear(x, W, b, dout)[1],
                 mistakes={"you averaged over the batch: dW = x^T dout sums over the N examples":
                           x.T @ dout / N},
                 shape_hint="dW has the shape of W, (D, M)")


@CHECKS("linear_backward: db = sum of dout over the batch")
def linear_db(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    _, _, db = _student_linear(student, x, W, b, dout)
    forgot = ("the bias gradient is missing: b is added to every row of out, so "
              "db = dout.sum(axis=0), the sum of dout over the batch")
    if db is None:
        raise CheckFailure(f"db (gradient with respect to b): received None\n  hint: {forgot}")
    assert_close("db (gradient with respect to b)", db, _reference_linear(x, W, b, dout)[2],
                 mistakes={forgot: np.zeros(M),
                           "you averaged dout over the batch; db sums it: dout.sum(axis=0)": dout.mean(0)},
                 shape_hint="db has the shape of b, (M,): sum dout over axis 0")


@CHECKS("linear_backward agrees with finite differences")
def linear_numeric(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    analytic = _student_linear(student, x, W, b, dout)
    forward = need(student, "linear_forward")

    def loss(_):  # L = sum(out * dout), whose gradient with respect to out is dout
        out, _ = unpack(call(forward, x, W, b, copy_args=False), ("out", "cache"), "linear_forward(x, W, b)")
        return float(np.sum(np.asarray(out) * dout))

    for name, arg, grad in zip(("dx", "dW", "db"), (x, W, b), analytic, strict=True):
        assert_close(f"{name} (your linear_backward against finite differences of your linear_forward)",
                     grad, numerical_gradient(loss, arg))


def _relu_input(rng):
    x = rng.standard_normal((N, M))
    x[0, 0] = 0.0  # the kink: its gradient is defined as 0
    return x


@CHECKS("relu_forward: out = max(x, 0)")
def relu_forward(student, rng):
    x = _relu_input(rng)
    out, _ = unpack(call(need(student, "relu_forward"), x), ("out", "cache"), "relu_forward(x)")
    assert_close("out", out, np.maximum(x, 0), context={"x": x})


@CHECKS("relu_backward: dx = dout where x > 0, else 0")
def relu_dx(student, rng):
    x, dout = _relu_input(rng), rng.standard_normal((N, M))
    _, cache = unpack(call(need(student, "relu_forward"), x), ("out", "cache"), "relu_forward(x)")
    dx = call(need(student, "relu_backward"), dout, cache)
    _, ref_cache = layers.relu_forward(x)
    assert_close("dx (gradient with respect to x)", dx, layers.relu_backward(dout, ref_cache),
                 context={"x": x, "dout": dout},
                 mistakes={"dout passed through unchanged: zero it where x <= 0": dout,
                           "masked where dout > 0; the mask is where the input x > 0":
                               np.where(dout > 0, dout, 0),
                           "at x = 0 the gradient is taken as 0 (mask x > 0, not x >= 0)":
                               np.where(x >= 0, dout, 0)})


@CHECKS("relu_backward agrees with finite differences")
def relu_numeric(student, rng):
    x = rng.standard_normal((N, M))
    x[np.abs(x) < 0.1] = 0.5  # stay away from the kink, where no derivative exists
    dout = rng.standard_normal((N, M))
    forward = need(student, "relu_forward")
    _, cache = unpack(call(forward, x), ("out", "cache"), "relu_forward(x)")
    dx = call(need(student, "relu_backward"), dout, cache)

    def loss(v):
        out, _ = unpack(call(forward, v), ("out", "cache"), "relu_forward(x)")
        return float(np.sum(np.asarray(out) * dout))

    assert_close("dx (your relu_backward against finite differences of your relu_forward)",
                 dx, numerical_gradient(loss, x), context={"x": x})
