"""Kullback-Leibler divergences between Gaussians: the regulariser of the ELBO.

The seed derives, for q(z|x) = N(mu, diag sigma^2) and p(z) = N(0, I),

    KL(q || p) = 1/2 sum_j ( mu_j^2 + sigma_j^2 - ln sigma_j^2 - 1 ),

as a special case of the general multivariate formula

    KL(N0 || N1) = 1/2 { tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - k + ln |S1| / |S0| }.

All three are here, from the general to the special, each summed over the k latent
dimensions and returned per example. Variances are passed as log-variances
(logvar = ln sigma^2, *not* ln sigma: the other classic VAE bug).
"""

from __future__ import annotations

import numpy as np

from .multivariate_normal import cholesky
from .plumbing.checks import as_float_array, check_finite, check_ndim, check_same_shape, check_upstream


def _check_diagonal(**arrays):
    out = []
    first_name, first = None, None
    for name, value in arrays.items():
        arr = as_float_array(name, value)
        check_ndim(name, arr, 2, "(N, K)")
        check_finite(name, arr)
        if first is None:
            first_name, first = name, arr
        else:
            check_same_shape(first_name, first, name, arr)
        out.append(arr)
    return out


def kl_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over the K dimensions.

        KL = 1/2 sum_j ( mu_j^2 + exp(logvar_j) - logvar_j - 1 )

    Shapes: mu (N, K), logvar (N, K) -> (N,).
    """
    mu, logvar = _check_diagonal(mu=mu, logvar=logvar)
    return 0.5 * (mu * mu + np.exp(logvar) - logvar - 1).sum(axis=1)


def kl_standard_normal_grad(mu: np.ndarray, logvar: np.ndarray, dout: np.ndarray | None = None):
    """Gradients of sum_n dout_n KL_n for ``kl_standard_normal``.

        dKL/dmu_j     = mu_j
        dKL/dlogvar_j = 1/2 ( exp(logvar_j) - 1 ) = 1/2 (sigma_j^2 - 1)

    Returns (dmu (N, K), dlogvar (N, K)).
    """
    mu, logvar = _check_diagonal(mu=mu, logvar=logvar)
    dmu, dlogvar = mu.copy(), 0.5 * np.expm1(logvar)
    w = check_upstream(dout, mu.shape[0], mu.dtype)  # (N, 1) or None
    if w is not None:
        dmu, dlogvar = dmu * w, dlogvar * w
    return dmu, dlogvar


def kl_normal(
    mu_q: np.ndarray, logvar_q: np.ndarray, mu_p: np.ndarray, logvar_p: np.ndarray
) -> np.ndarray:
    """KL( N(mu_q, diag v_q) || N(mu_p, diag v_p) ), summed over dimensions.

        KL = 1/2 sum_j [ logvar_p - logvar_q + (v_q + (mu_q - mu_p)^2) / v_p - 1 ]

    With mu_p = 0 and logvar_p = 0 it is ``kl_standard_normal``.
    Shapes: all four (N, K) -> (N,).
    """
    mu_q, logvar_q, mu_p, logvar_p = _check_diagonal(
        mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p
    )
    diff = mu_q - mu_p
    ratio = np.exp(logvar_q - logvar_p)
    return 0.5 * np.sum(logvar_p - logvar_q + ratio + diff * diff * np.exp(-logvar_p) - 1, axis=1)


def kl_normal_grad(mu_q, logvar_q, mu_p, logvar_p, dout: np.ndarray | None = None):
    """Gradients of sum_n dout_n KL_n for ``kl_normal``.

        dKL/dmu_q     =  (mu_q - mu_p) / v_p          dKL/dmu_p = -dKL/dmu_q
        dKL/dlogvar_q =  1/2 ( v_q / v_p - 1 )
        dKL/dlogvar_p =  1/2 ( 1 - (v_q + (mu_q - mu_p)^2) / v_p )

    Returns (dmu_q, dlogvar_q, dmu_p, dlogvar_p), each (N, K).
    """
    mu_q, logvar_q, mu_p, logvar_p = _check_diagonal(
        mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p
    )
    inv_vp = np.exp(-logvar_p)
    diff = mu_q - mu_p
    ratio = np.exp(logvar_q - logvar_p)
    dmu_q = diff * inv_vp
    dlogvar_q = 0.5 * (ratio - 1)
    dlogvar_p = 0.5 * (1 - ratio - diff * dmu_q)
    grads = [dmu_q, dlogvar_q, -dmu_q, dlogvar_p]
    w = check_upstream(dout, mu_q.shape[0], mu_q.dtype)  # (N, 1) or None
    if w is not None:
        grads = [g * w for g in grads]
    return tuple(grads)


def _check_mvn(mu0, cov0, mu1, cov1):
    arrays = {}
    for name, value in (("mu0", mu0), ("cov0", cov0), ("mu1", mu1), ("cov1", cov1)):
        arr = as_float_array(name, value)
        check_finite(name, arr)
        arrays[name] = arr
    mu0, cov0, mu1, cov1 = arrays.values()
    if mu0.ndim < 1:
        raise ValueError(f"mu0 must have shape (..., k), got shape {mu0.shape}")
    k = mu0.shape[-1]
    check_same_shape("mu0", mu0, "mu1", mu1)
    expected = mu0.shape + (k,)
    for name, cov in (("cov0", cov0), ("cov1", cov1)):
        if cov.shape != expected:
            raise ValueError(f"{name} must have shape {expected} to match mu0, got {cov.shape}")
    return mu0, cov0, mu1, cov1


def _solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L X = B for lower-triangular L, batched over leading axes.

    NumPy has no batched triangular solver; ``np.linalg.solve`` on the triangular factor
    gives the same X (its LU of a triangular matrix is the matrix itself up to pivoting)
    and batches, which scipy.linalg.solve_triangular does not.
    """
    return np.linalg.solve(L, B)


def kl_mvn(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> np.ndarray:
    """KL( N(mu0, S0) || N(mu1, S1) ) for full covariances, batched over leading axes.

        KL = 1/2 { tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - k + ln |S1| / |S0| }

    Computed from the Cholesky factors S0 = L0 L0^T, S1 = L1 L1^T without any inverse:
        tr(S1^-1 S0)            = || L1^-1 L0 ||_F^2
        (m1-m0)^T S1^-1 (m1-m0) = || L1^-1 (m1 - m0) ||^2
        ln |S1| / |S0|          = 2 sum_i ln (L1)_ii - 2 sum_i ln (L0)_ii

    Shapes: mu0, mu1 (..., k); cov0, cov1 (..., k, k) symmetric positive definite
    -> (...)  (a 0-d array for a single pair).
    """
    mu0, cov0, mu1, cov1 = _check_mvn(mu0, cov0, mu1, cov1)
    L0, L1 = cholesky("cov0", cov0), cholesky("cov1", cov1)
    k = mu0.shape[-1]
    M = _solve_lower(L1, L0)
    y = _solve_lower(L1, (mu1 - mu0)[..., None])[..., 0]
    logdet0 = 2 * np.sum(np.log(np.diagonal(L0, axis1=-2, axis2=-1)), axis=-1)
    logdet1 = 2 * np.sum(np.log(np.diagonal(L1, axis1=-2, axis2=-1)), axis=-1)
    return 0.5 * (np.sum(M * M, axis=(-2, -1)) + np.sum(y * y, axis=-1) - k + logdet1 - logdet0)


def kl_mvn_grad(mu0, cov0, mu1, cov1):
    """Gradients of sum over the batch of ``kl_mvn``, covariances treated as symmetric.

    With d = m1 - m0, A = S1^-1, B = S0^-1 (each applied through Cholesky solves):
        dKL/dm0 = -A d          dKL/dm1 = A d
        dKL/dS0 = 1/2 (A - B)
        dKL/dS1 = 1/2 (A - A S0 A - A d d^T A)
    The matrix gradients are symmetric: they are the gradient with respect to the
    symmetric matrix, which is what a finite difference through (C + C^T)/2 measures.
    Returns (dmu0, dcov0, dmu1, dcov1) in the shapes of the inputs.
    """
    mu0, cov0, mu1, cov1 = _check_mvn(mu0, cov0, mu1, cov1)
    L0, L1 = cholesky("cov0", cov0), cholesky("cov1", cov1)
    eye = np.broadcast_to(np.eye(mu0.shape[-1], dtype=mu0.dtype), cov0.shape)
    A = _cho_solve(L1, eye)
    B = _cho_solve(L0, eye)
    Ad = _cho_solve(L1, (mu1 - mu0)[..., None])  # (..., k, 1)
    dmu1 = Ad[..., 0]
    dcov0 = 0.5 * (A - B)
    dcov1 = 0.5 * (A - A @ cov0 @ A - Ad @ np.swapaxes(Ad, -1, -2))
    return -dmu1, dcov0, dmu1, dcov1


def _cho_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve (L L^T) X = B by two triangular solves, batched: X = L^-T (L^-1 B)."""
    return np.linalg.solve(np.swapaxes(L, -1, -2), _solve_lower(L, B))
