"""Exercise 1: the central-difference numerical gradient.

Before deriving any backward pass by hand we need a way to let the computer check it.
For a scalar function f of an array x, the partial derivative with respect to entry i is

    df/dx_i  =  lim_{h -> 0}  ( f(x + h e_i) - f(x - h e_i) ) / (2 h)

where e_i is the array with a 1 at entry i and 0 elsewhere. With a small finite h this is
the central difference; its error is O(h^2) (Taylor: the f'' terms cancel), while the
forward difference (f(x + h e_i) - f(x)) / h has an error of (1/2) f''(x) h.

Check your work:  python -m numvae exercises check . numerical_gradient
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference estimate of the gradient of a scalar function f at x.

        grad[i] = ( f(x + h e_i) - f(x - h e_i) ) / (2 h)      for every entry i of x

    Shapes: x any shape, float64 -> grad the same shape as x.
    f takes an array shaped like x and returns a number.

    Hints:
    - Loop over the entries with ``np.nditer`` or over ``range(x.size)`` with a flat view
      ``x.reshape(-1)`` (a view: writing into it writes into x).
    - Perturb x in place, evaluate f, and put the *saved* original value back: after the
      call x must be exactly what it was (x + h - h is not always x in floating point).
    - Use the h you are given.
    """
    raise NotImplementedError("exercise 1 (numerical_gradient): implement numerical_gradient")
