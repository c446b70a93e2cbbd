"""Reference solution of exercise 12: -L_k, its weights, and the toy model's gradients, written out."""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2 * math.pi)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def iwae_loss(log_w: np.ndarray) -> float:
    return -float(np.mean(_logsumexp(log_w, axis=0) - math.log(log_w.shape[0])))


def iwae_loss_grad(log_w: np.ndarray) -> np.ndarray:
    normalised = np.exp(log_w - _logsumexp(log_w, axis=0))  # each column sums to 1
    return -normalised / log_w.shape[1]


def toy_iwae_loss_and_grads(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray):
    sigma = np.exp(0.5 * logvar)  # (N, K)
    z = mu + sigma * eps  # (k, N, K)
    log_px = np.sum(x * z - np.logaddexp(0.0, z), axis=-1)  # (k, N)
    log_pz = -0.5 * np.sum(LOG_2PI + z * z, axis=-1)
    log_qz = -0.5 * np.sum(LOG_2PI + logvar + eps * eps, axis=-1)  # (z - mu)^2 / sigma^2 = eps^2
    log_w = log_px + log_pz - log_qz
    dlog_w = iwae_loss_grad(log_w)[:, :, None]  # (k, N, 1)
    # log p(x|z) + log p(z) through z; log q written in eps has no z: d/dmu 0, d/dlogvar -1/2
    dz = dlog_w * (x - 1.0 / (1.0 + np.exp(-z)) - z)
    dmu = np.sum(dz, axis=0)
    dlogvar = np.sum(dz * 0.5 * sigma * eps + dlog_w * 0.5, axis=0)
    return iwae_loss(log_w), dmu, dlogvar
