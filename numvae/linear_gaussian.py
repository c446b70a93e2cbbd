"""The linear-Gaussian latent-variable model: a VAE whose every term has a closed form.

    p(z)   = N(0, I_K)                     the prior, as in the VAE
    p(x|z) = N(W z + b, s^2 I_D)           a linear "decoder" with noise variance s^2

Everything the VAE has to approximate is exact here (probabilistic PCA):

    p(x)   = N(b, W W^T + s^2 I_D)                                   (the evidence)
    p(z|x) = N(m, S),  S = (I + W^T W / s^2)^-1,  m = S W^T (x - b) / s^2   (the posterior)

and, for any Gaussian q(z|x) = N(mu, C),

    E_q[log p(x|z)] = log N(x | W mu + b, s^2 I) - tr(W C W^T) / (2 s^2)
    ELBO(q)         = E_q[log p(x|z)] - KL(q || p(z))
    log p(x)        = ELBO(q) + KL(q || p(z|x))

so the seed's identity can be checked to the last digit, and the gap between log p(x)
and the ELBO seen to close exactly when q is the true posterior.
"""

from __future__ import annotations

import numpy as np

from .kl import kl_mvn
from .likelihoods import gaussian_log_prob
from .multivariate_normal import cholesky, mvn_log_prob
from .plumbing.checks import (
    as_float_array,
    as_matrix,
    check_finite,
    check_generator,
    check_ndim,
    check_positive_int,
)


def _check_rng(rng) -> None:
    check_generator("rng", rng)


class LinearGaussian:
    """p(z) = N(0, I_K), p(x|z) = N(W z + b, exp(noise_logvar) I_D).

    W (D, K), b (D,), noise_logvar a float (log s^2). All methods are batched over
    examples: x (N, D), z (N, K).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, noise_logvar: float):
        W = as_float_array("W", W)
        b = as_float_array("b", b)
        check_ndim("W", W, 2, "(D, K)")
        check_finite("W", W)
        check_finite("b", b)
        if b.shape != (W.shape[0],):
            raise ValueError(f"b must have shape ({W.shape[0]},) to match W {W.shape}, got {b.shape}")
        if not np.isfinite(noise_logvar):
            raise ValueError(f"noise_logvar must be a finite float, got {noise_logvar}")
        self.W, self.b, self.noise_logvar = W, b, float(noise_logvar)

    @classmethod
    def random(cls, data_dim: int, latent_dim: int, rng: np.random.Generator,
               noise_std: float = 0.5) -> LinearGaussian:
        """A model with W, b ~ N(0, 1) entries and noise standard deviation ``noise_std``."""
        _check_rng(rng)
        data_dim = check_positive_int("data_dim", data_dim)
        latent_dim = check_positive_int("latent_dim", latent_dim)
        if not noise_std > 0:
            raise ValueError(f"noise_std must be positive, got {noise_std}")
        W = rng.standard_normal((data_dim, latent_dim))
        b = rng.standard_normal(data_dim)
        return cls(W, b, 2 * np.log(noise_std))

    @property
    def data_dim(self) -> int:
        return self.W.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    @property
    def noise_var(self) -> float:
        return float(np.exp(self.noise_logvar))

    # ----- checks ----------------------------------------------------------------------
    def _x(self, x) -> np.ndarray:
        x = as_matrix("x", x, self.data_dim)
        check_finite("x", x)
        return x

    def _z(self, z, n: int | None = None, name: str = "z") -> np.ndarray:
        z = as_matrix(name, z, self.latent_dim)
        if n is not None and z.shape[0] != n:
            raise ValueError(f"{name} must have one row per row of x ({n}), got shape {z.shape}")
        check_finite(name, z)
        return z

    def _q(self, x, q_mean, q_cov):
        x = self._x(x)
        q_mean = self._z(q_mean, x.shape[0], "q_mean")
        k = self.latent_dim
        q_cov = as_float_array("q_cov", q_cov)
        if q_cov.shape not in ((k, k), (x.shape[0], k, k)):
            raise ValueError(f"q_cov must have shape ({k}, {k}) or ({x.shape[0]}, {k}, {k}), "
                             f"got {q_cov.shape}")
        cholesky("q_cov", q_cov)  # raises unless symmetric positive definite
        return x, q_mean, np.broadcast_to(q_cov, (x.shape[0], k, k))

    # ----- the generative model ---------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator):
        """Draw (x, z): z ~ p(z), then x ~ p(x|z).  -> x (n, D), z (n, K)."""
        n = check_positive_int("n", n)
        _check_rng(rng)
        z = rng.standard_normal((n, self.latent_dim))
        x = z @ self.W.T + self.b + np.sqrt(self.noise_var) * rng.standard_normal((n, self.data_dim))
        return x, z

    def log_prior(self, z: np.ndarray) -> np.ndarray:
        """log p(z) = log N(z | 0, I).  (N, K) -> (N,)."""
        z = self._z(z)
        return gaussian_log_prob(z, np.zeros_like(z), 0.0)

    def decode_mean(self, z: np.ndarray) -> np.ndarray:
        """The decoder's mean W z + b.  (N, K) -> (N, D)."""
        return self._z(z) @ self.W.T + self.b

    def log_likelihood(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x|z) = log N(x | W z + b, s^2 I).  x (N, D), z (N, K) -> (N,)."""
        x = self._x(x)
        z = self._z(z, x.shape[0])
        return gaussian_log_prob(x, self.decode_mean(z), self.noise_logvar)

    def log_joint(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x, z) = log p(x|z) + log p(z).  -> (N,)."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    # ----- exact inference ----------------------------------------------------------------
    def marginal(self):
        """p(x) = N(b, W W^T + s^2 I): returns (mean (D,), cov (D, D))."""
        return self.b.copy(), self.W @ self.W.T + self.noise_var * np.eye(self.data_dim)

    def log_marginal(self, x: np.ndarray) -> np.ndarray:
        """The evidence log p(x), exactly.  (N, D) -> (N,)."""
        mean, cov = self.marginal()
        return mvn_log_prob(self._x(x), mean, cov)

    def posterior(self, x: np.ndarray):
        """p(z|x) = N(m, S): returns (m (N, K), S (K, K)); S is the same for every x.

            S = (I + W^T W / s^2)^-1,   m = S W^T (x - b) / s^2
        (S from a Cholesky solve of the precision against the identity).
        """
        x = self._x(x)
        precision = np.eye(self.latent_dim) + self.W.T @ self.W / self.noise_var
        L = cholesky("posterior precision", precision)
        eye = np.eye(self.latent_dim)
        cov = np.linalg.solve(L.T, np.linalg.solve(L, eye))
        cov = 0.5 * (cov + cov.T)  # exact symmetry, lost to rounding in the solves
        mean = (x - self.b) @ self.W @ cov / self.noise_var
        return mean, cov

    def log_posterior(self, z: np.ndarray, x: np.ndarray) -> np.ndarray:
        """log p(z|x), exactly.  z (N, K), x (N, D) -> (N,)."""
        mean, cov = self.posterior(x)
        return mvn_log_prob(self._z(z, mean.shape[0]), mean, cov)

    # ----- the ELBO and its gap -----------------------------------------------------------
    def expected_log_likelihood(self, x, q_mean, q_cov) -> np.ndarray:
        """E_{q(z|x)}[log p(x|z)] for q = N(q_mean, q_cov), in closed form.

            = log N(x | W mu + b, s^2 I) - tr(W C W^T) / (2 s^2)
        (the squared error of the mean code, plus the spread of the codes through W).
        Shapes: x (N, D), q_mean (N, K), q_cov (K, K) or (N, K, K) -> (N,).
        """
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        spread = np.einsum("dk,nkl,dl->n", self.W, q_cov, self.W)
        fit = gaussian_log_prob(x, self.decode_mean(q_mean), self.noise_logvar)
        return fit - spread / (2 * self.noise_var)

    def kl_to_prior(self, x, q_mean, q_cov) -> np.ndarray:
        """KL(q(z|x) || p(z)) with p(z) = N(0, I), by the general formula.  -> (N,)."""
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        k = self.latent_dim
        return kl_mvn(q_mean, q_cov, np.zeros_like(q_mean), np.broadcast_to(np.eye(k), q_cov.shape))

    def elbo(self, x, q_mean, q_cov) -> np.ndarray:
        """ELBO(q) = E_q[log p(x|z)] - KL(q(z|x) || p(z)), exactly.  -> (N,)."""
        return self.expected_log_likelihood(x, q_mean, q_cov) - self.kl_to_prior(x, q_mean, q_cov)

    def kl_to_posterior(self, x, q_mean, q_cov) -> np.ndarray:
        """KL(q(z|x) || p(z|x)): the gap log p(x) - ELBO(q), exactly.  -> (N,)."""
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        m, S = self.posterior(x)
        return kl_mvn(q_mean, q_cov, m, np.broadcast_to(S, q_cov.shape))
