"""Exercise 5: KL(N(mu, sigma^2) || N(0, I)), summed over latent dimensions, and its gradients.

The ELBO's regulariser is the KL divergence from the encoder's Gaussian
q(z | x) = N(mu, diag sigma^2) to the prior p(z) = N(0, I). For Gaussians it has a
closed form (the seed derives it from the general formula of exercise 6):

    KL = 1/2 sum_j ( mu_j^2 + sigma_j^2 - ln sigma_j^2 - 1 )

summed over the K latent dimensions. The encoder outputs logvar = ln sigma^2 (not
ln sigma), so sigma^2 = exp(logvar). Sanity checks: KL >= 0, and KL = 0 exactly when
mu = 0 and sigma = 1.

Check your work:  python -m numvae exercises check . kl_standard_normal
"""

from __future__ import annotations

import numpy as np


def kl_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), one value per example.

        KL_n = 1/2 sum_j ( mu_nj^2 + exp(logvar_nj) - logvar_nj - 1 )

    Shapes: mu (N, K), logvar (N, K) -> (N,).
    """
    raise NotImplementedError("exercise 5 (kl_standard_normal): implement kl_standard_normal")


def kl_standard_normal_grad(mu: np.ndarray, logvar: np.ndarray):
    """Gradients of sum_n KL_n with respect to mu and logvar.

    The forward pass: KL_n = 1/2 sum_j ( mu_nj^2 + exp(logvar_nj) - logvar_nj - 1 ).
    The rules: d u^2 / du = 2 u, d exp(u) / du = exp(u), d u / du = 1; a constant has
    derivative 0.

    Shapes: mu, logvar (N, K) -> (dmu (N, K), dlogvar (N, K)).
    Hint: differentiate each term of the sum; only the j-th term of example n depends on
    mu_nj (or logvar_nj).
    """
    raise NotImplementedError("exercise 5 (kl_standard_normal): implement kl_standard_normal_grad")
