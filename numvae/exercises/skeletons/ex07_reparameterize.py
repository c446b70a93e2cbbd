"""Exercise 7: the reparameterization trick, forward and backward.

Sampling z ~ N(mu, sigma^2) has no gradient with respect to mu and sigma. The seed runs
the standardisation z' = (z - mu) / sigma backwards: draw eps ~ N(0, I), which depends
on no parameter, and set

    z = mu + sigma * eps,      sigma = exp(logvar / 2)

Now z is a smooth function of (mu, logvar) for fixed eps, and gradients flow through it.
Careful: exp(logvar) is the variance sigma^2, not the standard deviation.

Check your work:  python -m numvae exercises check . reparameterize
"""

from __future__ import annotations

import numpy as np


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = mu + exp(logvar / 2) * eps.

    Shapes: mu, logvar, eps (N, K) -> z (N, K). eps is drawn by the caller (from its own
    numpy.random.Generator), so that a gradient check can freeze it.
    """
    raise NotImplementedError("exercise 7 (reparameterize): implement reparameterize")


def reparameterize_backward(dz: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray):
    """Gradients of a loss L through z = mu + exp(logvar / 2) * eps, given dz = dL/dz.

    The rules: the chain rule entry by entry, dL/dmu = dL/dz * dz/dmu (and the same for
    logvar), with eps a constant; d exp(c u) / du = c exp(c u).

    Shapes: dz, mu, logvar, eps (N, K) -> (dmu (N, K), dlogvar (N, K)).
    """
    raise NotImplementedError("exercise 7 (reparameterize): implement reparameterize_backward")
