"""Checks for exercise 2: the linear layer and ReLU, forward and backward.

The references are ``numvae.linear_forward/backward`` and ``numvae.relu_forward/backward``.
Backward passes are called with the cache of the student's own forward pass (whatever it
is: arrays travel as data, any other object stays in the child and comes back by
reference), and are also compared with finite differences of that forward pass.
"""

from __future__ import annotations

import numpy as np

from ... import layers
from ..compare import CheckFailure, as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, D, M = 4, 5, 3
LINEAR_FORWARD = "linear_forward: out = x W + b"
RELU_FORWARD = "relu_forward: out = max(x, 0)"


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


@CHECKS(LINEAR_FORWARD)
def linear_forward(student, rng):
    x, W, b, _ = _linear_inputs(rng)
    out, _ = unpack(call(need(student, "linear_forward"), x, W, b), ("out", "cache"),
                    "linear_forward(x, W, b)")
    expected, _ = layers.linear_forward(x, W, b)
    assert_close("out", out, expected, mistakes={"the bias b is missing: out = x W + b": x @ W})


@CHECKS("linear_backward: dx, the gradient with respect to x")
def linear_dx(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    dx, _, _ = _student_linear(student, x, W, b, dout)
    assert_close("dx (gradient with respect to x)", dx, _reference_linear(x, W, b, dout)[0],
                 shape_hint="dx has the shape of x, (N, D)")


@CHECKS("linear_backward: dW, the gradient with respect to W")
def linear_dW(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    _, dW, _ = _student_linear(student, x, W, b, dout)
    assert_close("dW (gradient with respect to W)", dW, _reference_linear(x, W, b, dout)[1],
                 mistakes={"you averaged over the batch: W is used by all N examples, so their "
                           "contributions to dW add up": x.T @ dout / N},
                 shape_hint="dW has the shape of W, (D, M)")


@CHECKS("linear_backward: db, the gradient with respect to b")
def linear_db(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    _, _, db = _student_linear(student, x, W, b, dout)
    forgot = ("the bias gradient is missing: b is added to every row of out, so each row's "
              "upstream gradient reaches b")
    if db is None:
        raise CheckFailure(f"db (gradient with respect to b): received None\n  hint: {forgot}")
    assert_close("db (gradient with respect to b)", db, _reference_linear(x, W, b, dout)[2],
                 mistakes={forgot: np.zeros(M),
                           "you averaged dout over the batch; the N examples' contributions add up":
                               dout.mean(0)},
                 shape_hint="db has the shape of b, (M,)")


@CHECKS("linear_backward agrees with finite differences of linear_forward", value=False,
        after=(LINEAR_FORWARD,))
def linear_numeric(student, rng):
    x, W, b, dout = _linear_inputs(rng)
    analytic = _student_linear(student, x, W, b, dout)
    forward = need(student, "linear_forward")
    inputs = (x, W, b)
    # L = sum(out * dout), whose gradient with respect to out is dout
    for position, (name, grad) in enumerate(zip(("dx", "dW", "db"), analytic, strict=True)):
        def losses(points, position=position):
            calls = [inputs[:position] + (p,) + inputs[position + 1:] for p in points]
            outs = forward.map(calls, pick=(0,))
            return [float(np.sum(as_array("out", out, (N, M)) * dout)) for out in outs]

        assert_close(f"{name} (your linear_backward against finite differences of your linear_forward)",
                     grad, finite_differences(losses, inputs[position]))


def _relu_input(rng):
    x = rng.standard_normal((N, M))
    x[0, 0] = 0.0  # the kink: its gradient is defined as 0
    return x


@CHECKS(RELU_FORWARD)
def relu_forward(student, rng):
    x = _relu_input(rng)
    out, _ = unpack(call(need(student, "relu_forward"), x), ("out", "cache"), "relu_forward(x)")
    assert_close("out", out, np.maximum(x, 0), context={"x": x})


@CHECKS("relu_backward: dx, the gradient with respect to x")
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


@CHECKS("relu_backward agrees with finite differences of relu_forward", value=False, after=(RELU_FORWARD,))
def relu_numeric(student, rng):
    x = rng.standard_normal((N, M))
    x[np.abs(x) < 0.1] = 0.5  # stay away from the kink, where no derivative exists
    dout = rng.standard_normal((N, M))
    forward = need(student, "relu_forward")
    _, cache = unpack(call(forward, x), ("out", "cache"), "relu_forward(x)")
    dx = call(need(student, "relu_backward"), dout, cache)

    def losses(points):
        return [float(np.sum(as_array("out", out, (N, M)) * dout))
                for out in forward.map([(p,) for p in points], pick=(0,))]

    assert_close("dx (your relu_backward against finite differences of your relu_forward)",
                 dx, finite_differences(losses, x), context={"x": x})
