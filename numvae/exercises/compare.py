"""Comparing a student's answer with numvae's reference, with messages that say what is wrong.

Every check ends in ``assert_close`` (or raises ``CheckFailure`` itself). A failure names
the output or argument (``dW``), the first index where it matters most (the one with the
largest error), the expected and the received value there, and the relative error

    rel_error(a, b) = max_i |a_i - b_i| / max(1e-8, max_i (|a_i| + |b_i|))

(``numvae.rel_error``, the measure of the gradient checks). It then looks for the
classic mistakes: a check passes ``mistakes``, the answers that a known wrong formula
would give; if the student's answer is one of them, its explanation is added. Failing
that, the generic relations (flipped sign, constant factor, constant offset, all zeros)
are tried, since most wrong derivations differ from the right one in one of these ways.

This code runs inside the grading subprocess (``runner``), next to the student's module.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..gradcheck import rel_error

TOLERANCE = 1e-6  # the project's bar for float64 comparisons and gradient checks


class CheckFailure(Exception):
    """A check did not pass; the message (shown to the student) says precisely why."""


def need(student, name: str) -> Callable:
    """The student's function ``name``, or a CheckFailure saying it is missing."""
    fn = getattr(student, name, None)
    if fn is None:
        raise CheckFailure(f"{Path(student.__file__).name} defines no function {name}")
    if not callable(fn):
        raise CheckFailure(f"{name} must be a function, received {type(fn).__name__}")
    return fn


def _where(err: BaseException, fn: Callable) -> str:
    """' (line 12 of ex02_linear_relu.py, in linear_backward)' for the deepest student frame."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    folder = Path(code.co_filename).resolve().parent
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if Path(f.filename).resolve().parent == folder]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (line {frame.lineno} of {Path(frame.filename).name}, in {frame.name})"


def call(fn: Callable, *args, copy_args: bool = True, **kwargs):
    """Call a student's function; an exception it raises becomes a CheckFailure.

    Array arguments are copied unless ``copy_args`` is False, so that a function that
    writes into its inputs cannot change the reference computed from them. Floating-point
    warnings are silenced: an overflow shows up as inf or nan in the result, and the
    comparison reports that with a hint.
    """
    if copy_args:
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    name = getattr(fn, "__name__", "the function")
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except NotImplementedError as err:
        raise CheckFailure(f"not implemented yet: {err or name}") from None
    except Exception as err:  # the student's bug, reported as a failed check
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckFailure(f"{name} raised {type(err).__name__}: {message}{_where(err, fn)}") from None


def describe(value) -> str:
    """A short description of what a function returned: 'a tuple of 2', 'an array of shape (3,)'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
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
    """Name the simple relation between a wrong answer and the right one, if there is one."""
    if not np.any(expected):
        return None
    if not np.any(received):
        return "received all zeros"
    if rel_error(received, -expected) <= tol:
        return "received = -expected everywhere: the sign is flipped"
    scale = float(np.vdot(received, expected) / np.vdot(expected, expected))
    if rel_error(received, scale * expected) <= tol:
        return f"received = {scale:.6g} x expected everywhere: a missing or extra constant factor"
    if received.size > 1:
        offset = float(np.mean(received - expected))
        if rel_error(received, expected + offset) <= tol:
            return f"received = expected {offset:+.6g} everywhere: a missing or extra constant term"
    return None


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
) -> None:
    """Raise a CheckFailure unless rel_error(received, expected) <= tol.

    what:       the output or argument being compared, e.g. 'dW (gradient with respect to W)'.
    mistakes:   {explanation: the answer that mistake gives}; a match adds its explanation.
    context:    {name: array shaped like expected}, values shown at the failing index.
    hint:       added to any failure of this comparison.
    shape_hint: added when the shape is wrong.
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
        raise CheckFailure(message + (f"\n  hint: {hint}" if hint else ""))
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
