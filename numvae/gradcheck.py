"""Finite-difference gradient checking: how the computer verifies each derivation.

    df/dx_i  ~  ( f(x + h e_i) - f(x - h e_i) ) / (2 h)

The central difference is accurate to O(h^2); in float64 with h = 1e-5 it agrees with a
correct analytic gradient to about 1e-9 relative error, and a wrong derivative (a
missing factor 1/2, a flipped sign) shows up as an error of order 1. Checks therefore
always run in float64 (float32 has only ~7 digits, too few for any h to work).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function f at x.

    Perturbs each entry of ``x`` in place (so ``f`` may close over ``x`` itself, as when
    ``x`` is one parameter array of a model), and restores it exactly afterwards.

    Shapes: x any shape -> gradient of the same shape and dtype.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point numpy array, got {type(x).__name__}"
                        f"{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat_x.size):  # one coordinate at a time: this is the point of the check
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = float(f(x))
        flat_x[i] = original - h
        f_minus = float(f(x))
        flat_x[i] = original
        flat_g[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error of two arrays:  max_i |a_i - b_i|  /  max(1e-8, max_i (|a_i| + |b_i|)).

    The largest disagreement measured against the arrays' own scale: 0 for identical
    arrays, 1 when one is the negative of the other, ~1/3 when one is twice the other.
    Why not the largest *entrywise* ratio |a_i - b_i| / (|a_i| + |b_i|)? A float64 loss
    is known to about one unit in its last place, so a central difference carries an
    absolute error near 1e-16 |f| / h ~ 1e-10 whatever the method; on an entry whose
    true gradient is 1e-6 that is a 1e-4 entrywise ratio even when the derivation is
    right. Measured against the array's scale, a correct gradient gives ~1e-9 and any
    wrong derivative still gives ~1e-1 or more. The 1e-8 floor avoids 0/0.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


def check_gradients(
    loss_fn: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    h: float = 1e-5,
) -> dict[str, float]:
    """Compare every analytic gradient with central differences of ``loss_fn``.

    ``loss_fn()`` evaluates the loss from the *current* contents of ``params`` (which
    must be float64 and are perturbed in place, then restored); ``grads`` holds the
    analytic gradients under the same names. Returns {name: rel_error}.
    """
    missing = set(params) ^ set(grads)
    if missing:
        raise ValueError(f"params and grads must have the same names; differing: {sorted(missing)}")
    errors = {}
    for name, value in params.items():
        if value.dtype != np.float64:
            raise TypeError(f"gradient checks need float64 parameters; {name} is {value.dtype}")
        numeric = numerical_gradient(lambda _: loss_fn(), value, h=h)
        errors[name] = rel_error(grads[name], numeric)
    return errors


def format_gradient_table(errors: Mapping[str, float], shapes: Mapping[str, tuple] | None = None,
                          threshold: float = 1e-6) -> str:
    """A per-parameter table of relative errors, marking each against ``threshold``."""
    width = max([len("parameter")] + [len(n) for n in errors])
    lines = [f"{'parameter':<{width}}  {'shape':>12}  {'rel. error':>10}  result"]
    for name, err in errors.items():
        shape = "x".join(map(str, shapes[name])) if shapes else ""
        verdict = "ok" if err < threshold else "FAIL"
        lines.append(f"{name:<{width}}  {shape:>12}  {err:10.2e}  {verdict}")
    return "\n".join(lines)
