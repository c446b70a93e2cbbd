"""Reference solution of exercise 13: the mixture prior's log-density and gradients, written out."""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2 * math.pi)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def _components(z, means, logvars, logits):
    """a (M, C), the differences z - m (M, C, K), 1 / v (1, C, K) and log pi (C,)."""
    diff = z[:, None, :] - means[None, :, :]
    inv_var = np.exp(-logvars)[None]
    log_pi = logits - _logsumexp(logits, axis=0)
    log_n = -0.5 * np.sum(LOG_2PI + logvars[None] + diff ** 2 * inv_var, axis=2)
    return log_n + log_pi, diff, inv_var, log_pi


def mixture_log_prob(z: np.ndarray, means: np.ndarray, logvars: np.ndarray, logits: np.ndarray) -> np.ndarray:
    a, _, _, _ = _components(z, means, logvars, logits)
    return _logsumexp(a, axis=1)


def mixture_log_prob_grads(z: np.ndarray, means: np.ndarray, logvars: np.ndarray, logits: np.ndarray):
    a, diff, inv_var, log_pi = _components(z, means, logvars, logits)
    r = np.exp(a - _logsumexp(a, axis=1)[:, None])[:, :, None]  # responsibilities (M, C, 1)
    dz = -np.sum(r * diff * inv_var, axis=1)
    dmeans = np.sum(r * diff * inv_var, axis=0)
    dlogvars = 0.5 * np.sum(r * (diff ** 2 * inv_var - 1.0), axis=0)
    dlogits = r[:, :, 0].sum(axis=0) - z.shape[0] * np.exp(log_pi)
    return dz, dmeans, dlogvars, dlogits
