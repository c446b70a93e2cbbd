"""Reference solution of exercise 6: numvae's general Gaussian KL."""

from __future__ import annotations

import numpy as np

import numvae as nv


def kl_mvn(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> float:
    return float(nv.kl_mvn(mu0, cov0, mu1, cov1))
