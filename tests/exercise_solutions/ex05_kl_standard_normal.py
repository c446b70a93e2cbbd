"""Reference solution of exercise 5, written out so that the mutant tests can edit it."""

from __future__ import annotations

import numpy as np


def kl_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    return 0.5 * np.sum(mu * mu + np.exp(logvar) - logvar - 1, axis=1)


def kl_standard_normal_grad(mu: np.ndarray, logvar: np.ndarray):
    return mu.copy(), 0.5 * np.expm1(logvar)
