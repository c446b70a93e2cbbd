"""Reference solution of exercise 4: the Gaussian negative log-likelihood, written out."""

from __future__ import annotations

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))


def gaussian_nll(x: np.ndarray, mean: np.ndarray, logvar) -> np.ndarray:
    terms = LOG_2PI + logvar + (x - mean) ** 2 * np.exp(-logvar)
    return 0.5 * np.sum(np.broadcast_to(terms, np.shape(x)), axis=1)


def gaussian_nll_grad(x: np.ndarray, mean: np.ndarray, logvar: np.ndarray):
    inv_var = np.exp(-logvar)
    return (mean - x) * inv_var, 0.5 - 0.5 * (x - mean) ** 2 * inv_var


def gaussian_nll_constant(d: int) -> float:
    return 0.5 * d * LOG_2PI
