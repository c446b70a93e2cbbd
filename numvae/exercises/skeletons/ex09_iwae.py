"""Exercise 9: the importance-weighted estimate of log p(x), with a stable log-sum-exp.

p(x) = E_{z ~ q(z|x)} [ p(x|z) p(z) / q(z|x) ]: draw z_1..z_k from the encoder's q(z|x)
and average the importance weights w_i = p(x|z_i) p(z_i) / q(z_i|x). By Jensen,

    L_k = log (1/k) sum_i w_i        (its expectation is <= log p(x))

is a lower bound that tightens as k grows; L_1 is the ELBO (Burda et al., the IWAE bound).
The weights are tiny: log w is around -100 nats for an MNIST image and exp(-100) is far
below what float32 holds (and exp(-1000) below float64). So everything stays in log
space, and the average of the w_i is taken with the log-sum-exp trick:

    log sum_i exp(a_i) = m + log sum_i exp(a_i - m),     m = max_i a_i

Check your work:  python -m numvae exercises check . iwae
"""

from __future__ import annotations

import numpy as np


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum exp(a) along ``axis``, without overflow or underflow.

    Shapes: a (...) -> a with ``axis`` removed, e.g. (4, 5) with axis=1 -> (4,).
    Must be finite and exact for entries like -1000 or +1000.
    Hint: np.max(a, axis=axis, keepdims=True) keeps the axis so that a - m broadcasts.
    """
    raise NotImplementedError("exercise 9 (iwae): implement logsumexp")


def log_importance_weights(log_px_given_z: np.ndarray, z: np.ndarray, mu: np.ndarray,
                           logvar: np.ndarray) -> np.ndarray:
    """log w_i = log p(x | z_i) + log N(z_i; 0, I) - log N(z_i; mu, diag exp(logvar)).

    Shapes: log_px_given_z (k, N) (the decoder's log-likelihood of each sample),
    z (k, N, K) the samples, mu and logvar (N, K) the encoder's q(z|x) -> (k, N).

    A diagonal Gaussian log-density, summed over the K dimensions:
        log N(z; m, diag v) = -1/2 sum_j [ log(2 pi) + log v_j + (z_j - m_j)^2 / v_j ]
    (the log(2 pi) terms of p and q cancel, but keeping both is clearer).
    """
    raise NotImplementedError("exercise 9 (iwae): implement log_importance_weights")


def iwae_estimate(log_w: np.ndarray) -> np.ndarray:
    """L_k = log (1/k) sum_i exp(log_w_i) for each example, from k log weights.

    Shapes: log_w (k, N) -> (N,). Use your logsumexp over the samples (axis 0).
    """
    raise NotImplementedError("exercise 9 (iwae): implement iwae_estimate")
