"""The multivariate normal with a full covariance: density and sampling.

    log N(x | m, S) = -1/2 [ k log(2 pi) + log |S| + (x - m)^T S^-1 (x - m) ]

computed from the Cholesky factor S = L L^T (never an inverse):
    log |S| = 2 sum_i log L_ii,     (x - m)^T S^-1 (x - m) = || L^-1 (x - m) ||^2,
and drawn as x = m + L eps with eps ~ N(0, I), since Cov(L eps) = L L^T = S.

The diagonal case is ``likelihoods.gaussian_log_prob``; this one is for correlated
Gaussians: the true posterior of the linear-Gaussian model and the general KL formula.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_triangular

from .plumbing.checks import as_float_array, check_finite, check_generator, check_positive_int

LOG_2PI = math.log(2 * math.pi)  # the constant of every Gaussian log-density here


def cholesky(name: str, cov) -> np.ndarray:
    """Lower Cholesky factor of each (k, k) matrix in ``cov`` (..., k, k), or a ValueError.

    Raises naming ``name`` when cov is not square, not symmetric or not positive definite.
    """
    cov = as_float_array(name, cov)
    check_finite(name, cov)
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name} must have shape (..., k, k), got shape {cov.shape}")
    if not np.allclose(cov, np.swapaxes(cov, -1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite (its Cholesky factorisation failed)") from None


def mvn_log_prob(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x | mean, cov), constant included, batched over leading axes.

    Shapes: x (..., k); mean broadcasting to x; cov (k, k) or (..., k, k) symmetric
    positive definite -> (...).
    """
    x = as_float_array("x", x)
    mean = as_float_array("mean", mean)
    check_finite("x", x)
    check_finite("mean", mean)
    if x.ndim < 1:
        raise ValueError(f"x must have shape (..., k), got shape {x.shape}")
    k = x.shape[-1]
    L = cholesky("cov", cov)
    if L.shape[-1] != k:
        raise ValueError(f"cov must be ({k}, {k}) to match x of shape {x.shape}, got {L.shape}")
    try:
        diff = np.broadcast_to(x - mean, np.broadcast_shapes(x.shape, mean.shape, L.shape[:-1]))
    except ValueError:
        raise ValueError(
            f"x {x.shape}, mean {mean.shape} and cov {L.shape} must broadcast together"
        ) from None
    if L.ndim == 2:  # one covariance for every x: a single triangular solve with many right-hand sides
        y = solve_triangular(L, diff.reshape(-1, k).T, lower=True).T.reshape(diff.shape)
    else:
        y = np.linalg.solve(np.broadcast_to(L, diff.shape + (k,)), diff[..., None])[..., 0]
    logdet = 2 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (k * LOG_2PI + logdet + np.sum(y * y, axis=-1))


def mvn_sample(mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws x = mean + L eps, eps ~ N(0, I), from one Gaussian.  -> (n, k).

    Shapes: mean (k,), cov (k, k).
    """
    n = check_positive_int("n", n)
    check_generator("rng", rng)
    mean = as_float_array("mean", mean)
    check_finite("mean", mean)
    if mean.ndim != 1:
        raise ValueError(f"mean must have shape (k,), got shape {mean.shape}")
    L = cholesky("cov", cov)
    if L.shape != (mean.size, mean.size):
        raise ValueError(f"cov must have shape {(mean.size, mean.size)}, got {L.shape}")
    eps = rng.standard_normal((n, mean.size), dtype=L.dtype)
    return mean + eps @ L.T
