"""The reparameterization trick: sampling z ~ q(z|x) as a differentiable function.

Drawing z ~ N(mu, sigma^2) directly has no gradient with respect to mu and sigma. The
seed's trick runs the standardisation z' = (z - mu) / sigma backwards: draw
eps ~ N(0, I), which does not depend on any parameter, and set

    z = mu + sigma * eps,   sigma = exp(logvar / 2).

Now z is a smooth function of (mu, logvar) for fixed eps and gradients flow through it.
Note exp(logvar / 2), not exp(logvar): the latter is the variance, and using it as a
standard deviation is a classic bug (``tests/test_reparameterization.py`` catches it by
checking the sample variance).
"""

from __future__ import annotations

import numpy as np

from .plumbing.checks import as_float_array, check_finite, check_same_shape


def _check(mu, logvar, eps):
    mu, logvar, eps = (as_float_array(n, a) for n, a in (("mu", mu), ("logvar", logvar), ("eps", eps)))
    check_same_shape("mu", mu, "logvar", logvar)
    check_same_shape("mu", mu, "eps", eps)
    for name, arr in (("mu", mu), ("logvar", logvar), ("eps", eps)):
        check_finite(name, arr)
    return mu, logvar, eps


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = mu + exp(logvar / 2) * eps.

    Shapes: mu, logvar, eps (N, K) -> z (N, K). ``eps`` is passed in (drawn by the
    caller from its own Generator), so a gradient check can freeze it.
    """
    mu, logvar, eps = _check(mu, logvar, eps)
    return mu + np.exp(0.5 * logvar) * eps


def reparameterize_backward(dz: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray):
    """Gradients through z = mu + exp(logvar / 2) * eps for fixed eps.

        dz/dmu = 1,   dz/dlogvar = 1/2 exp(logvar / 2) eps = (z - mu) / 2

    Returns (dmu, dlogvar) = (dz, dz * 1/2 exp(logvar / 2) eps), each (N, K).
    """
    mu, logvar, eps = _check(mu, logvar, eps)
    dz = as_float_array("dz", dz)
    check_same_shape("dz", dz, "mu", mu)
    return dz.copy(), dz * (0.5 * np.exp(0.5 * logvar) * eps)
