"""Reference solution of exercise 6: the general Gaussian KL with solves and slogdet."""

from __future__ import annotations

import numpy as np


def kl_mvn(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> float:
    k = len(mu0)
    diff = mu1 - mu0
    trace = np.trace(np.linalg.solve(cov1, cov0))
    mahalanobis = diff @ np.linalg.solve(cov1, diff)
    logdet_ratio = np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1]
    return float(0.5 * (trace + mahalanobis - k + logdet_ratio))
