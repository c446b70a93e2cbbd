"""The seed's variance head: sigma = ReLU(s) + floor, passed on as a log-variance.

The encoder ends in two linear heads on its last hidden layer h: mu = h W_mu + b_mu and
a second one for the spread of q(z|x). The common choice reads it as a log-variance,
logvar = h W + b, valid for any real output. The seed reads it as a standard deviation
made non-negative by a ReLU and kept away from 0 by a small floor (0.05 in the note),
because a sigma of exactly 0 would make q a spike:

    sigma  = max(s, 0) + floor,      s = h W_s + b_s
    logvar = 2 ln sigma              (the rest of the VAE speaks log-variance)

    dlogvar/ds = 2 / sigma  where s > 0,  and 0 where s < 0

The second line of the derivative is the price of the seed's choice: a unit whose s is
negative sits at sigma = floor and receives no gradient until s turns positive again.
``VAE(ModelConfig(..., variance_head='relu'))`` computes exactly this.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_finite, check_same_shape


def sigma_head_forward(s: np.ndarray, sigma_floor: float = 0.05):
    """logvar = 2 ln( max(s, 0) + sigma_floor ).  Shapes: s (N, K) -> logvar (N, K).

    Returns (logvar, cache); the cache is (s, sigma).
    """
    s = as_float_array("s", s)
    check_finite("s", s)
    if not sigma_floor > 0:
        raise ValueError(f"sigma_floor must be positive, got {sigma_floor}")
    sigma = np.maximum(s, 0) + sigma_floor
    return 2 * np.log(sigma), (s, sigma)


def sigma_head_backward(dlogvar: np.ndarray, cache) -> np.ndarray:
    """ds = dlogvar * 2 / sigma where s > 0, else 0.  Shapes: (N, K) -> (N, K)."""
    s, sigma = cache
    dlogvar = as_float_array("dlogvar", dlogvar)
    check_same_shape("dlogvar", dlogvar, "s", s)
    return np.where(s > 0, dlogvar * 2 / sigma, 0)
