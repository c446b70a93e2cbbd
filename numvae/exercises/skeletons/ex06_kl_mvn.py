"""Exercise 6: the KL divergence between two multivariate Gaussians.

For k-dimensional Gaussians N0 = N(m0, S0) and N1 = N(m1, S1) (the seed quotes it from
Wikipedia's "Kullback-Leibler divergence" page):

    KL(N0 || N1) = 1/2 { tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - k + ln( |S1| / |S0| ) }

With N1 = N(0, I) and S0 = diag(sigma^2) it becomes the formula of exercise 5.

Numerics: never form S1^-1 explicitly; solve linear systems instead (np.linalg.solve,
or a Cholesky factor S = L L^T), and take log-determinants with np.linalg.slogdet
(a determinant itself overflows or underflows easily).

Check your work:  python -m numvae exercises check . kl_mvn
"""

from __future__ import annotations

import numpy as np


def kl_mvn(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> float:
    """KL( N(mu0, cov0) || N(mu1, cov1) ) for full covariance matrices.

    Shapes: mu0, mu1 (k,); cov0, cov1 (k, k) symmetric positive definite -> a number.
    Hints: tr(S1^-1 S0) = np.trace(np.linalg.solve(cov1, cov0));
    d^T S1^-1 d = d @ np.linalg.solve(cov1, d) with d = mu1 - mu0.
    """
    raise NotImplementedError("exercise 6 (kl_mvn): implement kl_mvn")
