"""The one comparison every gradient property test makes: analytic vs central differences.

    assert_gradient_matches(analytic, loss_terms, x)

``loss_terms(x)`` returns the array of terms whose sum is the scalar loss (for a layer,
``dout * out``); ``x`` is the float64 input array, perturbed in place by
``numvae.numerical_gradient``. The check is ``rel_error(analytic, numeric) < 1e-6``.

One case has no relative error: an analytic gradient that is exactly zero in every entry
(dL/db when the upstream gradients of a column cancel, ReLU's dx when every input is
negative). Its central difference is then pure rounding: each loss value is known to
about 1e-16 times the size of its terms, so the difference quotient is of order
1e-16 S / h ~ 1e-11 S, S = sum |terms|, and rel_error's floor of 1e-8 would turn that
into a failure of a correct gradient. There the check is absolute: the central difference
must be below 1e-9 S, a hundred times that rounding and far below any real derivative.
Gradients that are tiny but not zero are kept out by the strategies (tests/strategies.py).
"""

from __future__ import annotations

import numpy as np

import numvae as nv

TOL = 1e-6


def assert_gradient_matches(analytic, loss_terms, x: np.ndarray, name: str = "") -> None:
    """Assert that ``analytic`` is the gradient of sum(loss_terms(x)) with respect to ``x``."""
    assert x.dtype == np.float64, "gradient checks run in float64"
    numeric = nv.numerical_gradient(lambda v: np.sum(loss_terms(v)), x)
    analytic = np.asarray(analytic)
    assert analytic.shape == x.shape, f"{name}: gradient shape {analytic.shape}, input {x.shape}"
    if np.any(analytic != 0):
        error = nv.rel_error(analytic, numeric)
        assert error < TOL, f"{name}: relative error {error:.2e} >= {TOL:.0e}"
    else:
        scale = float(np.sum(np.abs(loss_terms(x))))
        worst = float(np.max(np.abs(numeric), initial=0.0))
        assert worst < 1e-9 * max(scale, 1.0), (
            f"{name}: analytic gradient is zero but the central difference reaches {worst:.2e}")
