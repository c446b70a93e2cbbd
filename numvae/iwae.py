"""The importance-weighted estimate of log p(x) (Burda et al.'s IWAE bound).

p(x) = E_{z ~ q(z|x)} [ p(x|z) p(z) / q(z|x) ], so with z_1..z_k drawn from q(z|x),

    log p(x)  >=  L_k = E[ log (1/k) sum_i w_i ],    log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)

L_1 is the ELBO; L_k grows with k and tends to log p(x). The average of the w_i is
taken in log space with the maximum subtracted (log-sum-exp), because the log w_i are
around -100 nats and exp(-100) is far below what a float32 can hold.
"""

from __future__ import annotations

import math

import numpy as np

from .likelihoods import gaussian_log_prob
from .plumbing.checks import check_generator, check_positive_int
from .plumbing.progress import tqdm
from .reparameterization import reparameterize
from .subnormals import flush_subnormals
from .vae import decoder_forward, log_likelihood


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum_i exp(a_i) along ``axis``, computed as m + log sum_i exp(a_i - m), m = max a."""
    m = np.max(a, axis=axis, keepdims=True)
    # The scaled weights exp(a_i - m) lie in (0, 1]; those of draws more than 708 nats
    # (87 in float32) below the best are subnormal: flushed, see numvae.subnormals.
    weights = flush_subnormals(np.exp(a - m))
    return np.log(np.sum(weights, axis=axis)) + np.squeeze(m, axis=axis)


DECODE_BLOCK = 8192  # samples decoded at once: (samples, D) arrays of a few tens of MB


def log_importance_weights(model, params, x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """log w_i for k draws z_i ~ q(z|x) per example.  Shapes: x (N, D) -> (k, N).

    log q(z|x) and log p(z) are diagonal-Gaussian log-densities (constants included).
    """
    x = model.check_data(x)
    n, config = x.shape[0], model.config
    mu, logvar = model.encode(params, x)  # (N, K) each
    eps = check_generator("rng", rng).standard_normal((k, n, mu.shape[1]), dtype=mu.dtype)
    mu_k, logvar_k = np.broadcast_to(mu, eps.shape), np.broadcast_to(logvar, eps.shape)  # (k, N, K)
    z = reparameterize(mu_k, logvar_k, eps)  # (k, N, K)
    # log p(x|z) for a few draws at a time: each block's (draws * N, D) arrays stay near
    # the processor's cache, about twice as fast on MNIST as decoding all k * N at once.
    draws = max(1, DECODE_BLOCK // n)
    blocks = []
    for i in range(0, k, draws):
        zb = z[i:i + draws].reshape(-1, z.shape[2])  # (draws * N, K)
        xb = np.broadcast_to(x, (len(zb) // n, n, x.shape[1])).reshape(-1, x.shape[1])  # (draws * N, D)
        blocks.append(log_likelihood(xb, decoder_forward(params, zb, config)[0], config))
    log_px_z = np.concatenate(blocks)  # (k * N,)
    z = z.reshape(k * n, -1)  # (k * N, K)
    log_pz = gaussian_log_prob(z, np.zeros_like(z), 0.0)
    log_qz = gaussian_log_prob(z, mu_k.reshape(k * n, -1), logvar_k.reshape(k * n, -1))
    return (log_px_z + log_pz - log_qz).reshape(k, n)


def importance_estimates(model, params, x: np.ndarray, k: int, rng: np.random.Generator,
                         max_samples_per_chunk: int = 65536, progress: bool = False):
    """Per-example (ELBO estimate, L_k) from the same k draws each.  x (N, D) -> (N,), (N,).

        ELBO ~ (1/k) sum_i log w_i            L_k = log (1/k) sum_i w_i

    Sharing the draws makes L_k >= the ELBO estimate for every example (the log of a mean
    is at least the mean of the logs), so a printed gap is never negative. Works through
    x in chunks of at most ``max_samples_per_chunk`` decoder evaluations (chunk size * k),
    and through k itself in pieces when k alone exceeds that, merging pieces by sums and
    log-sum-exp; memory stays bounded whatever N and k.
    """
    k = check_positive_int("k", k)
    x = model.check_data(x)
    budget = check_positive_int("max_samples_per_chunk", max_samples_per_chunk)
    rows = max(1, budget // k)
    k_piece = min(k, budget)
    elbo = np.empty(x.shape[0], dtype=np.float64)
    log_px = np.empty(x.shape[0], dtype=np.float64)
    with tqdm(total=x.shape[0], desc=f"log p(x), k={k}", unit="image", disable=not progress,
              leave=False) as bar:
        for start in range(0, x.shape[0], rows):
            xb = x[start:start + rows]
            sum_log_w, pieces = 0.0, []
            for done in range(0, k, k_piece):
                log_w = log_importance_weights(model, params, xb, min(k_piece, k - done), rng)
                log_w = log_w.astype(np.float64)  # (k_piece, rows)
                sum_log_w = sum_log_w + log_w.sum(axis=0)
                pieces.append(logsumexp(log_w, axis=0))
            elbo[start:start + len(xb)] = sum_log_w / k
            log_px[start:start + len(xb)] = logsumexp(np.stack(pieces), axis=0) - math.log(k)
            bar.update(len(xb))
    return elbo, log_px


def iwae_log_px(model, params, x: np.ndarray, k: int, rng: np.random.Generator,
                max_samples_per_chunk: int = 65536) -> np.ndarray:
    """Importance-weighted estimate L_k of log p(x_n) for each example.  x (N, D) -> (N,).

    The second half of ``importance_estimates`` (same draws, same chunking).
    """
    return importance_estimates(model, params, x, k, rng, max_samples_per_chunk)[1]
