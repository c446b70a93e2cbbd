"""Diagnostics of a trained encoder-decoder: which latent dimensions carry information,
how well the codes fill the prior, and how close generated images land to the data.

* KL per latent dimension: the KL term, split into its K summands and averaged over
  the data. A dimension with KL ~ 0 has q(z_j|x) = p(z_j) for every x: it tells the
  decoder nothing (posterior collapse).
* Active units (Burda, Grosse & Salakhutdinov, 2016): dimension j is active when the
  posterior mean moves with the data, Var_x( E_q[z_j | x] ) > 0.01.
* The aggregate posterior q(z) = 1/N sum_n q(z|x_n) is what the decoder is trained on;
  sampling decodes z ~ p(z) = N(0, I) instead, which works only if the two match. Its
  mean and covariance (law of total covariance)
      E[z] = mean_n mu_n,     Cov[z] = Cov_n(mu_n) + mean_n diag(sigma_n^2)
  give KL( N(E[z], Cov[z]) || N(0, I) ), a single number for the mismatch.
* Nearest-neighbour distance: how far each generated image is from the closest
  training image (Euclidean, in pixel space).
* Effective sample size of importance weights, (sum w)^2 / sum w^2: how many of the
  draws actually count when one weight dwarfs the rest.
"""

from __future__ import annotations

import numpy as np

from .kl import kl_mvn, kl_standard_normal
from .plumbing.checks import as_float_array, check_finite, check_ndim, check_positive_int, check_same_shape


def _codes(mu, logvar=None):
    mu = as_float_array("mu", mu)
    check_ndim("mu", mu, 2, "(N, K)")
    check_finite("mu", mu)
    if mu.shape[0] < 2:
        raise ValueError(f"mu must hold at least 2 codes to measure their spread, got shape {mu.shape}")
    if logvar is None:
        return mu, None
    logvar = as_float_array("logvar", logvar)
    check_same_shape("mu", mu, "logvar", logvar)
    check_finite("logvar", logvar)
    return mu, logvar


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL( q(z_j|x_n) || N(0, 1) ) for every example n and dimension j.

    Each entry is ``kl_standard_normal`` of one coordinate, 1/2 (mu^2 + sigma^2 - ln sigma^2 - 1),
    so the rows sum to the per-example KL of the VAE's loss.
    Shapes: mu, logvar (N, K) -> (N, K).
    """
    mu, logvar = _codes(mu, logvar)
    n, k = mu.shape
    return kl_standard_normal(mu.reshape(-1, 1), logvar.reshape(-1, 1)).reshape(n, k)


def active_units(mu: np.ndarray, threshold: float = 0.01):
    """Count the dimensions whose posterior mean varies with x: Var_n(mu_nj) > threshold.

    Shapes: mu (N, K) -> (count int, per-dimension variances (K,)).
    """
    mu, _ = _codes(mu)
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    variances = mu.var(axis=0)
    return int(np.count_nonzero(variances > threshold)), variances


def aggregate_posterior_moments(mu: np.ndarray, logvar: np.ndarray | None = None):
    """Mean (K,) and covariance (K, K) of the aggregate posterior 1/N sum_n q(z|x_n).

    logvar None means point codes (a plain autoencoder): the covariance is then the
    codes' own covariance. Both use 1/N (the mixture's exact moments).
    """
    mu, logvar = _codes(mu, logvar)
    mean = mu.mean(axis=0)
    centred = mu - mean
    cov = centred.T @ centred / mu.shape[0]
    if logvar is not None:
        cov = cov + np.diag(np.exp(logvar).mean(axis=0))
    return mean, cov


def aggregate_posterior_kl(mu: np.ndarray, logvar: np.ndarray | None = None) -> float:
    """KL( N(E[z], Cov[z]) || N(0, I) ) for the aggregate posterior's moments, in nats.

    0 when the codes have the prior's mean and covariance; large when they sit
    elsewhere or at another scale (the autoencoder's codes). Shapes: mu (N, K).
    """
    mean, cov = aggregate_posterior_moments(mu, logvar)
    k = mean.size
    return float(kl_mvn(mean.astype(np.float64), cov.astype(np.float64), np.zeros(k), np.eye(k)))


def nearest_neighbor_distance(samples: np.ndarray, data: np.ndarray, block: int = 256) -> np.ndarray:
    """Euclidean distance from each sample to its nearest row of ``data``.

    ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, one matrix product per ``block`` samples so
    memory stays at block * len(data) numbers. Shapes: samples (S, D), data (N, D) -> (S,).
    """
    samples, data = as_float_array("samples", samples), as_float_array("data", data)
    check_ndim("samples", samples, 2, "(S, D)")
    check_ndim("data", data, 2, "(N, D)")
    if samples.shape[1] != data.shape[1]:
        raise ValueError(f"samples and data must have the same number of columns, got "
                         f"{samples.shape} and {data.shape}")
    if data.shape[0] == 0:
        raise ValueError("data must hold at least one row")
    block = check_positive_int("block", block)
    data_sq = np.sum(data * data, axis=1)
    out = np.empty(samples.shape[0], dtype=np.result_type(samples.dtype, data.dtype))
    for start in range(0, samples.shape[0], block):
        a = samples[start:start + block]
        d2 = np.sum(a * a, axis=1)[:, None] + data_sq[None, :] - 2 * (a @ data.T)
        out[start:start + block] = np.sqrt(np.maximum(d2.min(axis=1), 0))  # rounding can dip below 0
    return out


def effective_sample_size(log_w: np.ndarray, axis: int = 0) -> np.ndarray:
    """(sum_i w_i)^2 / sum_i w_i^2 from log-weights, as a fraction of the number of draws.

    1 when all weights are equal, 1/S when one of S weights carries everything. Computed
    from w / max w, so log-weights of -1000 nats are no problem.
    Shapes: log_w (S,) or (S, N) with the draws along ``axis`` -> () or (N,), in (0, 1].
    """
    log_w = as_float_array("log_w", log_w)
    check_finite("log_w", log_w)
    if log_w.ndim == 0 or log_w.shape[axis] == 0:
        raise ValueError(f"log_w must hold at least one draw along axis {axis}, got shape {log_w.shape}")
    w = np.exp(log_w - log_w.max(axis=axis, keepdims=True))
    return w.sum(axis=axis) ** 2 / (w * w).sum(axis=axis) / log_w.shape[axis]
