"""The importance-weighted bound L_k: an estimate of log p(x), and a training objective.

p(x) = E_{z ~ q(z|x)} [ p(x|z) p(z) / q(z|x) ], so with z_1..z_k drawn from q(z|x),

    log p(x)  >=  L_k = E[ log (1/k) sum_i w_i ],    log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)

L_1 is the ELBO; L_k grows with k and tends to log p(x) (Burda, Grosse and
Salakhutdinov 2015). The average of the w_i is taken in log space with the maximum
subtracted (log-sum-exp), because the log w_i are around -100 nats and exp(-100) is far
below what a float32 can hold.

Trained on (objective='iwae'), its gradient with z_i = mu + sigma * eps_i and eps frozen
is the average of the per-draw gradients, weighted by the normalised weights:

    d L_k / d theta = sum_i w~_i  d log w_i / d theta,      w~ = softmax_i(log w_i)

(the derivative of log sum_i exp(a_i) is softmax(a)). Each log w_i is differentiated
like the ELBO's terms: through the decoder (log p(x|z_i)), the prior (log p(z_i)) and
q (log q(z_i|x), through z_i and directly through mu and logvar).
"""

from __future__ import annotations

import math

import numpy as np

from .likelihoods import gaussian_log_prob, gaussian_log_prob_grad, log_likelihood, log_likelihood_grad
from .plumbing.checks import check_generator, check_positive_int
from .plumbing.progress import tqdm
from .reparameterization import reparameterize, reparameterize_backward
from .subnormals import flush_subnormals
from .train import LossParts


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum_i exp(a_i) along ``axis``, computed as m + log sum_i exp(a_i - m), m = max a."""
    m = np.max(a, axis=axis, keepdims=True)
    # The scaled weights exp(a_i - m) lie in (0, 1]; those of draws more than 708 nats
    # (87 in float32) below the best are subnormal: flushed, see numvae.subnormals.
    weights = flush_subnormals(np.exp(a - m))
    return np.log(np.sum(weights, axis=axis)) + np.squeeze(m, axis=axis)


DECODE_BLOCK = 8192  # samples decoded at once: (samples, D) arrays of a few tens of MB


def log_weight_terms(model, params, x: np.ndarray, y, eps: np.ndarray):
    """The three terms of log w for draws z = mu + sigma * eps, and what the backward needs.

    x (N, D), y (N,) or None, eps (k, N, K) -> log w (k, N) and a cache. Each term is a
    public, checked density: the decoder's log p(x|z), the prior's log p(z) and the
    diagonal Gaussian log q(z|x), all evaluated on the k * N draws as one batch.
    """
    config = model.config
    k, n, latent = eps.shape
    mu, logvar, enc_cache = model.encode_forward(params, x, y)  # (N, K) each
    mu_k = np.broadcast_to(mu, eps.shape).reshape(k * n, latent)  # (k * N, K), draw-major
    logvar_k = np.broadcast_to(logvar, eps.shape).reshape(k * n, latent)
    eps = eps.reshape(k * n, latent)
    z = reparameterize(mu_k, logvar_k, eps)  # (k * N, K)
    x_k = np.broadcast_to(x, (k, *x.shape)).reshape(k * n, -1)  # (k * N, D): x_n for each draw
    y_k = None if y is None else np.tile(y, k)
    logits, dec_cache = model.decode_forward(params, z, y_k)  # (k * N, D)
    log_px = log_likelihood(x_k, logits, config)  # (k * N,)
    log_pz = model.prior.log_prob(params, z)
    log_qz = gaussian_log_prob(z, mu_k, logvar_k)
    log_w = (log_px + log_pz - log_qz).reshape(k, n)
    cache = (x_k, mu_k, logvar_k, eps, z, logits, enc_cache, dec_cache)
    return log_w, (log_px, log_pz, log_qz), cache


def iwae_loss(model, params, x, *, y=None, eps=None, rng=None):
    """-L_k of a mini-batch, forward only (k = model.config.k); see ``iwae_loss_and_grads``."""
    x, y = model.check_data(x, y)
    parts, _, _ = _iwae_forward(model, params, x, y, eps, rng)
    return parts


def iwae_loss_and_grads(model, params, x, y=None, *, eps=None, rng=None, out=None):
    """-L_k = -1/N sum_n log (1/k) sum_i w_in and the gradient of every parameter.

    Shapes: x (N, D); y (N,) for a conditional model; eps (k, N, K) frozen, or rng.
    Returns (LossParts, grads): loss = -L_k; recon and kl are the ELBO's two terms
    averaged over the same k * N draws (so loss <= recon + kl: the bound is tighter).
    """
    x, y = model.check_data(x, y)
    grads = params.zeros_like() if out is None else out
    parts, (log_w, cache), eps = _iwae_forward(model, params, x, y, eps, rng)
    config, (k, n) = model.config, log_w.shape
    x_k, mu_k, logvar_k, eps, z, logits, enc_cache, dec_cache = cache

    # d loss / d log w_in = -w~_in / N, the normalised weights of each example's k draws
    w_tilde = flush_subnormals(np.exp(log_w - logsumexp(log_w, axis=0)))  # (k, N), columns sum to 1
    dlog_w = (w_tilde * (-1.0 / n)).reshape(k * n).astype(x.dtype, copy=False)
    # log p(x|z): through the decoder to z
    dlogits = log_likelihood_grad(x_k, logits, dlog_w, config)
    dz = model.decode_backward(dlogits, dec_cache, grads)  # (k * N, K)
    # log p(z): through the prior to z (the prior's own gradients go into grads)
    dz += model.prior.log_prob_grad(params, z, dlog_w, grads)
    # -log q(z|x): through z, and directly through mu and logvar
    dmean_q, dlogvar_q = gaussian_log_prob_grad(z, mu_k, logvar_k, -dlog_w)
    dz -= dmean_q  # d log N(z; m, v) / dz = -d/dm
    dmu, dlogvar = reparameterize_backward(dz, mu_k, logvar_k, eps)  # (k * N, K)
    dmu += dmean_q
    dlogvar += dlogvar_q
    latent = config.latent
    model.encode_backward(dmu.reshape(k, n, latent).sum(axis=0), dlogvar.reshape(k, n, latent).sum(axis=0),
                          enc_cache, grads)
    return parts, grads


def _iwae_forward(model, params, x, y, eps, rng):
    """LossParts of -L_k, (log w (k, N), cache), eps: the forward half of the objective."""
    k, n = model.config.k, x.shape[0]
    eps = model.noise((k, n, model.config.latent), x.dtype, eps, rng)
    log_w, (log_px, log_pz, log_qz), cache = log_weight_terms(model, params, x, y, eps)
    l_k = logsumexp(log_w, axis=0) - math.log(k)  # (N,)
    loss, recon, kl = -float(np.mean(l_k)), -float(np.mean(log_px)), float(np.mean(log_qz - log_pz))
    return LossParts(loss, recon, kl), (log_w, cache), eps


def log_importance_weights(model, params, x: np.ndarray, k: int, rng: np.random.Generator,
                           y=None) -> np.ndarray:
    """log w_i for k draws z_i ~ q(z|x) per example.  Shapes: x (N, D), y (N,) -> (k, N).

    For evaluation: log p(z) is the model's prior, log q(z|x) a diagonal Gaussian (both
    with their constants). The draws are decoded a few at a time, each block's
    (draws * N, D) arrays near the processor's cache: about twice as fast on MNIST as
    decoding all k * N at once.
    """
    x, y = model.check_data(x, y)
    n = x.shape[0]
    eps = check_generator("rng", rng).standard_normal((k, n, model.config.latent), dtype=x.dtype)
    draws = max(1, DECODE_BLOCK // n)
    blocks = [log_weight_terms(model, params, x, y, eps[i:i + draws])[0] for i in range(0, k, draws)]
    return np.concatenate(blocks, axis=0)  # (k, N)


def importance_estimates(model, params, x: np.ndarray, k: int, rng: np.random.Generator,
                         max_samples_per_chunk: int = 65536, progress: bool = False, y=None):
    """Per-example (ELBO estimate, L_k) from the same k draws each.  x (N, D) -> (N,), (N,).

        ELBO ~ (1/k) sum_i log w_i            L_k = log (1/k) sum_i w_i

    Sharing the draws makes L_k >= the ELBO estimate for every example (the log of a mean
    is at least the mean of the logs), so a printed gap is never negative. Works through
    x in chunks of at most ``max_samples_per_chunk`` decoder evaluations (chunk size * k),
    and through k itself in pieces when k alone exceeds that, merging pieces by sums and
    log-sum-exp; memory stays bounded whatever N and k. ``y`` (N,): the labels of a
    conditional model, whose estimates are of log p(x | y).
    """
    k = check_positive_int("k", k)
    x, y = model.check_data(x, y)
    budget = check_positive_int("max_samples_per_chunk", max_samples_per_chunk)
    rows = max(1, budget // k)
    k_piece = min(k, budget)
    elbo = np.empty(x.shape[0], dtype=np.float64)
    log_px = np.empty(x.shape[0], dtype=np.float64)
    with tqdm(total=x.shape[0], desc=f"log p(x), k={k}", unit="image", disable=not progress,
              leave=False) as bar:
        for start in range(0, x.shape[0], rows):
            xb, yb = x[start:start + rows], None if y is None else y[start:start + rows]
            sum_log_w, pieces = 0.0, []
            for done in range(0, k, k_piece):
                log_w = log_importance_weights(model, params, xb, min(k_piece, k - done), rng, y=yb)
                log_w = log_w.astype(np.float64)  # (k_piece, rows)
                sum_log_w = sum_log_w + log_w.sum(axis=0)
                pieces.append(logsumexp(log_w, axis=0))
            elbo[start:start + len(xb)] = sum_log_w / k
            log_px[start:start + len(xb)] = logsumexp(np.stack(pieces), axis=0) - math.log(k)
            bar.update(len(xb))
    return elbo, log_px


def iwae_log_px(model, params, x: np.ndarray, k: int, rng: np.random.Generator,
                max_samples_per_chunk: int = 65536, y=None) -> np.ndarray:
    """Importance-weighted estimate L_k of log p(x_n) for each example.  x (N, D) -> (N,).

    The second half of ``importance_estimates`` (same draws, same chunking).
    """
    return importance_estimates(model, params, x, k, rng, max_samples_per_chunk, y=y)[1]
