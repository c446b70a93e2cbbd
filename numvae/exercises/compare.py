"""Comparing a student's answer with numvae's reference, with messages that say what is wrong.

Every check ends in ``assert_close`` (or raises ``CheckFailure`` itself). A failure names
the output or argument (``dW``), the first index where it matters most (the one with the
largest error), the expected and the received value there, and the relative error

    rel_error(a, b) = max_i |a_i - b_i| / max(1e-8, max_i (|a_i| + |b_i|))

(``numvae.rel_error``, the measure of the gradient checks). It then looks for the
classic mistakes: a check passes ``mistakes``, the answers that a known wrong formula
would give; if the student's answer is one of them, its explanation is added. Failing
that, the generic relations (flipped sign, constant factor, constant offset, all zeros)
are tried, and the one that fits best is named, since most wrong derivations differ from
the right one in one of these ways.

This code runs in the grader's process. The student's functions are ``RemoteFunction``s
(``session``): calling one sends the arguments to the child that runs the student's file
and returns the decoded reply, so what arrives here is data (arrays, numbers, containers)
whatever the student's code did, and every comparison is made here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..gradcheck import rel_error
from .protocol import Ref

TOLERANCE = 1e-6  # the project's bar for float64 comparisons and gradient checks


class CheckFailure(Exception):
    """A check did not pass; the message (shown to the student) says precisely why."""


def need(student, name: str) -> Callable:
    """The student's function ``name`` (a RemoteFunction), or a CheckFailure saying it is missing."""
    if not student.has(name):
        raise CheckFailure(f"{student.file} defines no function {name}")
    return student.function(name)


def call(fn: Callable, *args, **kwargs):
    """Call a student's function. It runs in the child on copies of the arguments (they
    travel as data), so it cannot change anything here; whatever it raised arrives as a
    CheckFailure that names the exception and the student's line."""
    return fn(*args, **kwargs)


def finite_differences(evaluate_many: Callable[[list[np.ndarray]], Sequence[float]], x: np.ndarray,
                       h: float = 1e-5) -> np.ndarray:
    """Central differences of a scalar function f at x, every point in one batch.

        grad[i] = ( f(x + h e_i) - f(x - h e_i) ) / (2 h)

    ``evaluate_many(points)`` returns f at each point of the list (for a student's function
    one round trip to the child, not 2 x.size of them). Shapes: x any -> grad like x.
    """
    x = np.asarray(x, dtype=np.float64)
    points = []
    for i in range(x.size):
        for step in (h, -h):
            point = x.copy()
            point.flat[i] = x.flat[i] + step
            points.append(point)
    values = np.asarray([float(v) for v in evaluate_many(points)], dtype=np.float64).reshape(x.size, 2)
    return ((values[:, 0] - values[:, 1]) / (2 * h)).reshape(x.shape)


def describe(value) -> str:
    """A short description of what a function returned: 'a tuple of 2', 'an array of shape (3,)'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, Ref):
        return f"a {value.type} object"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def unpack(value, names: Sequence[str], what: str) -> tuple:
    """Split a returned tuple into len(names) parts, or fail naming what was expected."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise CheckFailure(f"{what} must return a tuple ({', '.join(names)}), received {describe(value)}")
    return tuple(value)


def as_array(what: str, value, shape: tuple, shape_hint: str = "") -> np.ndarray:
    """``value`` as a float64 array of exactly ``shape``, or a CheckFailure naming ``what``."""
    if value is None:
        raise CheckFailure(f"{what}: expected an array of shape {shape}, received None "
                           "(a missing return statement?)")
    if isinstance(value, Ref):
        raise CheckFailure(f"{what}: expected an array of shape {shape}, received {describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception:  # a ragged list, say
        raise CheckFailure(f"{what}: expected an array of shape {shape}, "
                           f"received {describe(value)}") from None
    if arr.dtype.kind not in "biuf":
        raise CheckFailure(f"{what}: expected a floating-point array, received dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        if shape == ():
            message = f"{what}: expected a single number, received an array of shape {arr.shape}"
        else:
            message = f"{what}: expected shape {tuple(shape)}, received shape {arr.shape}"
        if arr.ndim == 2 and arr.shape == tuple(shape)[::-1]:
            message += " (transposed?)"
        raise CheckFailure(message + (f"\n  hint: {shape_hint}" if shape_hint else ""))
    return arr.astype(np.float64)


def _index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _context(idx: tuple, context: Mapping[str, np.ndarray]) -> str:
    parts = [f"{name}{_index(idx)} = {np.asarray(arr)[idx]:.6g}" for name, arr in context.items()]
    return f" (where {', '.join(parts)})" if parts else ""


def _generic_relation(received: np.ndarray, expected: np.ndarray, tol: float) -> str | None:
    """Name the simple relation between a wrong answer and the right one, if there is one.

    A flipped sign first; then, of a constant factor and a constant offset, the one that
    fits best: near -1000 an offset of 1.1 is also nearly a factor of 0.999, and only the
    offset is exact.
    """
    if not np.any(expected):
        return None
    if not np.any(received):
        return "received all zeros"
    if rel_error(received, -expected) <= tol:
        return "received = -expected everywhere: the sign is flipped"
    candidates = []
    scale = float(np.vdot(received, expected) / np.vdot(expected, expected))
    if rel_error(received, scale * expected) <= tol:
        candidates.append((rel_error(received, scale * expected), f"received = {scale:.6g} x expected "
                           "everywhere: a missing or extra constant factor"))
    if received.size > 1:
        offset = float(np.mean(received - expected))
        if rel_error(received, expected + offset) <= tol:
            candidates.append((rel_error(received, expected + offset), f"received = expected "
                               f"{offset:+.6g} everywhere: a missing or extra constant term"))
    return min(candidates)[1] if candidates else None


def assert_close(
    what: str,
    received,
    expected,
    *,
    tol: float = TOLERANCE,
    mistakes: Mapping[str, np.ndarray] | None = None,
    context: Mapping[str, np.ndarray] | None = None,
    hint: str = "",
    shape_hint: str = "",
    nonfinite_hint: str = "",
) -> None:
    """Raise a CheckFailure unless rel_error(received, expected) <= tol.

    what:       the output or argument being compared, e.g. 'dW (gradient with respect to W)'.
    mistakes:   {explanation: the answer that mistake gives}; a match adds its explanation.
    context:    {name: array shaped like expected}, values shown at the failing index.
    hint:       added to any failure of this comparison.
    shape_hint: added when the shape is wrong.
    nonfinite_hint: added when some entries are inf or nan (an overflow, say).
    """
    expected = np.asarray(expected, dtype=np.float64)
    arr = as_array(what, received, expected.shape, shape_hint)
    context = {k: v for k, v in (context or {}).items() if np.shape(v) == expected.shape}
    scalar = expected.ndim == 0

    def label(idx):
        return what if scalar else what + _index(idx)

    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0]) if not scalar else ()
        message = (f"{label(idx)}: expected {expected[idx]:.6g}, received {arr[idx]}"
                   f"{_context(idx, context)}; {int(bad.sum())} of {arr.size} entries are not finite")
        extra = [h for h in (nonfinite_hint, hint) if h]
        raise CheckFailure(message + "".join(f"\n  hint: {h}" for h in extra))
    err = rel_error(arr, expected)
    if err <= tol:
        return
    diff = np.abs(arr - expected)
    idx = tuple(np.unravel_index(int(np.argmax(diff)), diff.shape)) if not scalar else ()
    message = (f"{label(idx)}: expected {expected[idx]:.6g}, received {arr[idx]:.6g}"
               f"{_context(idx, context)}; relative error {err:.1e} (tolerance {tol:.0e})")
    matched = [text for text, answer in (mistakes or {}).items()
               if np.shape(answer) == arr.shape and np.all(np.isfinite(answer))
               and rel_error(arr, np.asarray(answer, dtype=np.float64)) <= tol]
    if not matched:
        relation = _generic_relation(arr, expected, tol)
        matched = [relation] if relation else []
    for text in matched + ([hint] if hint else []):
        message += f"\n  hint: {text}"
    raise CheckFailure(message)
