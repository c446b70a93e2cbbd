"""Reference solution of exercise 7, written out so that the mutant tests can edit it."""

from __future__ import annotations

import numpy as np


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    return mu + np.exp(0.5 * logvar) * eps


def reparameterize_backward(dz: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray):
    return dz.copy(), dz * 0.5 * np.exp(0.5 * logvar) * eps
