"""Likelihoods p(x | decoder output): the reconstruction term of the ELBO.

The seed (section "Maximum Likelihood Estimation") shows that maximising the likelihood
of the data under the decoder's distribution is minimising a familiar loss:

* a Gaussian with sigma = 1 gives the mean squared error (plus a constant),
* a Bernoulli gives the binary cross-entropy.

Both functions return one log-probability per example, **summed over the D features**
(pixels), shape (N,). Averaging over the batch is the loss's job, not theirs: mixing the
two reductions is the classic VAE bug. Each has a ``*_grad`` function returning the
analytic gradient of sum_n log p(x_n) (or of sum_n dout_n log p(x_n) when ``dout`` (N,)
is given) with respect to its parameters, in the parameters' own shapes.
"""

from __future__ import annotations

import numpy as np

from .layers import sigmoid, sigmoid_backward, sigmoid_forward, softplus
from .multivariate_normal import LOG_2PI
from .plumbing.checks import (
    as_float_array,
    check_broadcastable,
    check_finite,
    check_ndim,
    check_probability_targets,
    check_same_shape,
    check_upstream,
)
from .subnormals import flush_subnormals


def _check_bernoulli(x, logits):
    x = as_float_array("x", x)
    logits = as_float_array("logits", logits)
    check_ndim("x", x, 2, "(N, D)")
    check_same_shape("x", x, "logits", logits)
    check_probability_targets("x", x)
    check_finite("logits", logits)
    return x, logits


def bernoulli_log_prob(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Bernoulli log-likelihood from logits, summed over features.

        log p(x | l) = sum_d [ x_d log s(l_d) + (1 - x_d) log(1 - s(l_d)) ],  s = sigmoid

    Computed as sum_d [ x_d l_d - softplus(l_d) ], the same quantity with no log of a
    probability that could round to 0: finite and exact for |l| up to 1e4 and beyond.
    This is minus the binary cross-entropy. x may be grey levels in [0, 1] (the
    "continuous Bernoulli" shortcut of most VAE code) or binary.

    Shapes: x (N, D) in [0, 1], logits (N, D) -> (N,).
    """
    x, logits = _check_bernoulli(x, logits)
    # sum_d x_d l_d - sum_d softplus(l_d): two row sums, no (N, D) difference array
    return np.einsum("nd,nd->n", x, logits) - softplus(logits).sum(axis=1)


def bernoulli_log_prob_grad(
    x: np.ndarray, logits: np.ndarray, dout: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of sum_n dout_n log p(x_n | l_n) with respect to the logits.

        d/dl_d [x_d l_d - softplus(l_d)] = x_d - s(l_d)

    Shapes: x (N, D), logits (N, D), dout (N,) or None (ones) -> dlogits (N, D).
    """
    x, logits = _check_bernoulli(x, logits)
    g = x - sigmoid(logits)
    w = check_upstream(dout, x.shape[0], g.dtype)  # (N, 1) or None
    if w is not None:
        g *= w  # in place: g is ours
    # A tiny s(l) times dout = -1/N lands among the subnormals (see numvae.subnormals);
    # this gradient feeds the decoder's matrix products, which slow down on them.
    return flush_subnormals(g)


def _check_gaussian(x, mean, logvar):
    x = as_float_array("x", x)
    mean = as_float_array("mean", mean)
    if isinstance(logvar, (int, float)):
        # A plain number takes x's dtype, as NumPy treats Python scalars; as a float64
        # array it would silently turn a float32 model's likelihood into float64.
        logvar = np.asarray(logvar, dtype=x.dtype)
    logvar = as_float_array("logvar", logvar)
    check_ndim("x", x, 2, "(N, D)")
    check_same_shape("x", x, "mean", mean)
    check_broadcastable("logvar", logvar, x.shape)
    for name, arr in (("x", x), ("mean", mean), ("logvar", logvar)):
        check_finite(name, arr)
    return x, mean, logvar


def gaussian_log_prob(x: np.ndarray, mean: np.ndarray, logvar) -> np.ndarray:
    """Diagonal Gaussian log-density, summed over features, constant included.

        log N(x | m, diag v) = -1/2 sum_d [ log(2 pi) + log v_d + (x_d - m_d)^2 / v_d ]

    with v = exp(logvar). With logvar = 0 (sigma = 1) this is
    -1/2 ||x - m||^2 - D/2 log(2 pi): the squared error, up to a constant (the seed's
    "Gaussian gives MSE").

    Shapes: x (N, D), mean (N, D), logvar scalar or anything broadcasting to (N, D)
    -> (N,).
    """
    x, mean, logvar = _check_gaussian(x, mean, logvar)
    diff = x - mean
    per_dim = LOG_2PI + logvar + diff * diff * _inverse_variance(logvar)
    return -0.5 * np.sum(np.broadcast_to(per_dim, x.shape), axis=1)


def gaussian_log_prob_grad(
    x: np.ndarray, mean: np.ndarray, logvar, dout: np.ndarray | None = None
):
    """Gradients of sum_n dout_n log N(x_n | m_n, diag exp(logvar)).

        d/dm_d       = (x_d - m_d) / v_d
        d/dlogvar_d  = -1/2 + 1/2 (x_d - m_d)^2 / v_d

    dlogvar is summed over the axes along which logvar was broadcast, so it has
    logvar's own shape (a scalar logvar gets one number).
    Returns (dmean (N, D), dlogvar (shape of logvar)).
    """
    x, mean, logvar = _check_gaussian(x, mean, logvar)
    inv_var = _inverse_variance(logvar)
    diff = x - mean
    dmean = diff * inv_var
    dlogvar = 0.5 * (diff * dmean - 1)
    w = check_upstream(dout, x.shape[0], dmean.dtype)  # (N, 1) or None
    if w is not None:
        dmean = dmean * w
        dlogvar = dlogvar * w
    return np.broadcast_to(dmean, x.shape).copy(), _sum_to_shape(dlogvar, logvar.shape)


def _inverse_variance(logvar: np.ndarray) -> np.ndarray:
    """1 / v = exp(-logvar), with subnormal results (logvar > 87 in float32) flushed to 0.

    See ``numvae.subnormals``: a 1/v below 1e-38 weighs nothing next to log v > 87 in the
    same sum, and arithmetic on it is up to 15x slower on some processors.
    """
    return flush_subnormals(np.asarray(np.exp(-logvar)))  # asarray: exp of a 0-d array is a scalar


def _sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach it."""
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


# ----- the decoder's likelihood: its logits read as one of the two above -------------------
def log_likelihood(x: np.ndarray, logits: np.ndarray, config) -> np.ndarray:
    """log p(x | z) from a decoder's logits, summed over pixels.  (N, D) -> (N,).

    The decoder's last layer gives one logit per pixel; ``config.likelihood`` says how a
    model reads them (``config.output_logvar`` is the Gaussian's log-variance):

    'bernoulli': p(x_d = 1 | z) = sigmoid(logit_d)                  (cross-entropy)
    'gaussian':  x_d ~ N(sigmoid(logit_d), exp(output_logvar))      (squared error)
    """
    if config.likelihood == "bernoulli":
        return bernoulli_log_prob(x, logits)
    return gaussian_log_prob(x, sigmoid(logits), config.output_logvar)


def log_likelihood_grad(x, logits, dout: np.ndarray, config) -> np.ndarray:
    """d/dlogits of sum_n dout_n log p(x_n | z_n).  x, logits (N, D), dout (N,) -> (N, D)."""
    if config.likelihood == "bernoulli":
        return bernoulli_log_prob_grad(x, logits, dout)
    mean, cache = sigmoid_forward(logits)  # the Gaussian's mean image
    dmean, _ = gaussian_log_prob_grad(x, mean, config.output_logvar, dout)
    return sigmoid_backward(dmean, cache)
