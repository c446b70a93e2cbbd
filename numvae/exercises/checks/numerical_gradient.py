"""Checks for exercise 1: the central-difference numerical gradient.

Each check knows the exact gradient of its test function, so it can tell a central
difference (error O(h^2), none at all on a quadratic) from a forward difference (error
(1/2) f'' h, i.e. exactly a h on a x^2). The test function f stays in the grader: the
student's numerical_gradient receives a ``Callback``, and each f(v) it evaluates is a
round trip to the grader, which checks that v has x's shape.
"""

from __future__ import annotations

import numpy as np

from ..compare import CheckFailure, as_array, assert_close, call, need
from ..protocol import Callback
from . import CheckList

CHECKS = CheckList()
SHAPE = (3, 4)


def _function(formula) -> Callback:
    """f(v) = formula(v) as a number, for v of the check's shape (anything else is an error)."""
    def f(v):
        v = np.asarray(v, dtype=np.float64)
        if v.shape != SHAPE:
            raise ValueError(f"f takes an array of shape {SHAPE} (the shape of x), received shape {v.shape}")
        return float(formula(v))
    return Callback(f)


def _forward_difference(received, expected, curvature) -> dict:
    """The answer of a forward (or backward) difference with the step that fits best."""
    step = float(np.median((np.asarray(received, dtype=float) - expected) / curvature))
    return {
        f"the error is curvature x h with h = {step:.1e} at every entry: the O(h) error of a "
        f"{'forward' if step > 0 else 'backward'} difference (f(x + h e_i) - f(x)) / h. Use the "
        "central difference (f(x + h e_i) - f(x - h e_i)) / (2 h), exact on a quadratic":
            expected + curvature * step,
    }


@CHECKS("returns an array shaped like x", value=False)
def returns_shape(student, rng):
    x = rng.standard_normal(SHAPE)
    grad = call(need(student, "numerical_gradient"), _function(lambda v: np.sum(v * v)), x)
    as_array("numerical_gradient(f, x)", grad, SHAPE,
             shape_hint="one partial derivative per entry of x, in x's shape")


@CHECKS("exact on a quadratic f(x) = sum(a x^2 + b x)")
def quadratic(student, rng):
    x = rng.standard_normal(SHAPE)
    a, b = rng.uniform(0.5, 2.0, SHAPE), rng.standard_normal(SHAPE)
    expected = 2 * a * x + b
    received = call(need(student, "numerical_gradient"), _function(lambda v: np.sum(a * v * v + b * v)), x)
    received = as_array("gradient", received, SHAPE)
    assert_close("gradient", received, expected, context={"x": x},
                 mistakes=_forward_difference(received, expected, a))


@CHECKS("accurate to 1e-6 on f(x) = sum(sin(x) exp(x / 2))")
def smooth(student, rng):
    x = rng.uniform(-2, 2, SHAPE)
    expected = np.exp(x / 2) * (np.cos(x) + 0.5 * np.sin(x))
    f = _function(lambda v: np.sum(np.sin(v) * np.exp(v / 2)))
    received = call(need(student, "numerical_gradient"), f, x)
    assert_close("gradient", received, expected, context={"x": x},
                 hint="with the central difference and h = 1e-5 the error here is about 1e-10; a "
                      "larger error means a one-sided difference or a large step h")


@CHECKS("uses the step h it is given")
def uses_h(student, rng):
    # For f = sum(x^3) the central difference is exactly 3 x^2 + h^2, whatever x.
    x = rng.standard_normal(SHAPE)
    h = float(rng.choice([1e-2, 2e-2, 5e-3]))
    received = call(need(student, "numerical_gradient"), _function(lambda v: np.sum(v ** 3)), x, h=h)
    assert_close(f"numerical_gradient(f, x, h={h:g})", received, 3 * x * x + h * h, context={"x": x},
                 mistakes={f"the answer is that of h = 1e-5, not of the h = {h:g} passed in: "
                           "use the argument h": 3 * x * x + 1e-10,
                           "a forward difference (f(x + h e_i) - f(x)) / h, whose error here is 3 x h; "
                           "use the central difference": 3 * x * x + 3 * x * h + h * h})


@CHECKS("leaves x unchanged", value=False)
def restores_x(student, rng):
    x = rng.standard_normal(SHAPE)
    f = _function(lambda v: np.sum(np.sin(v)))
    _, after = need(student, "numerical_gradient").keeping_arguments(f, x)
    after = after[1] if isinstance(after, (tuple, list)) and len(after) == 2 else None
    if not isinstance(after, np.ndarray) or after.shape != x.shape:
        raise CheckFailure("x: the grader could not see x after the call")
    if not np.array_equal(after, x):
        idx = tuple(int(i) for i in np.argwhere(after != x)[0])
        raise CheckFailure(
            f"x{list(idx)} was {x[idx]!r} before the call and {after[idx]!r} after\n"
            "  hint: keep the original value and put it back (x[i] = old) rather than adding and "
            "subtracting h, which does not round-trip exactly in floating point")
