"""The prior p(z): the lecture's N(0, I), and a learned mixture of Gaussians.

The ELBO's regulariser is KL(q(z|x) || p(z)). For the lecture's p(z) = N(0, I) it has the
closed form ``kl_standard_normal``. A richer prior can fit the codes the encoder actually
produces (Tomczak and Welling 2018; the GMVAE of Stanford CS236):

    p(z) = sum_c pi_c N(z; m_c, diag exp(s_c)),      pi = softmax(w)           (C components)

with means m (C, K), log-variances s (C, K) and weights w (C,) learned with the rest of the
model (the weights through a softmax, so they stay positive and sum to 1). The KL between
a Gaussian and a mixture has no closed form, so the VAE uses the single-sample estimate at
its reparameterized z = mu + sigma * eps:

    KL(q(z|x) || p(z))  ~  log q(z|x) - log p(z),       log p(z) = logsumexp_c a_c,
    a_c = log pi_c + log N(z; m_c, diag exp(s_c))

unbiased, since E_q[log q(z|x) - log p(z)] is the KL. Its gradients, with the
responsibilities r_c = softmax_c(a_c) (the posterior probability of component c given z):

    d log p(z) / dz    = sum_c r_c (m_c - z) / v_c
    d log p(z) / dm_c  = r_c (z - m_c) / v_c
    d log p(z) / ds_c  = r_c ( (z - m_c)^2 / v_c - 1 ) / 2
    d log p(z) / dw_c  = r_c - pi_c

Each prior here offers the same five methods, so the VAE and the importance-weighted
objective use any of them the same way: ``shapes``, ``init``, ``kl`` and ``kl_grads`` (the
regulariser of the ELBO, with its gradients with respect to mu, logvar and z), and
``log_prob`` with ``log_prob_grad`` (log p(z) itself, for the importance weights).
"""

from __future__ import annotations

import numpy as np

from .iwae import logsumexp
from .kl import kl_standard_normal, kl_standard_normal_grad
from .likelihoods import gaussian_log_prob, gaussian_log_prob_grad
from .plumbing.checks import check_generator
from .reparameterization import reparameterize
from .subnormals import flush_subnormals


class StandardNormalPrior:
    """p(z) = N(0, I): no parameters, and the KL in closed form (the lecture's choice)."""

    name = "standard"

    def __init__(self, latent: int, components: int = 0):
        self.latent = latent

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {}

    def init(self, params, rng: np.random.Generator) -> None:
        """Nothing to initialise."""

    def kl(self, params, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> np.ndarray:
        """KL(N(mu, diag exp(logvar)) || N(0, I)), exact: ``kl_standard_normal``.  -> (N,).

        z is not needed: the closed form averages over every z at once.
        """
        return kl_standard_normal(mu, logvar)

    def kl_grads(self, params, mu, logvar, z, dout: np.ndarray, grads):
        """Gradients of sum_n dout_n KL_n: (dmu, dlogvar, dz), each (N, K); dz = 0."""
        dmu, dlogvar = kl_standard_normal_grad(mu, logvar, dout)
        return dmu, dlogvar, np.zeros_like(z)

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """n codes z ~ N(0, I), in the parameters' dtype.  -> (n, K)."""
        return rng.standard_normal((n, self.latent), dtype=params.flat.dtype)

    def log_prob(self, params, z: np.ndarray) -> np.ndarray:
        """log N(z; 0, I), summed over the K dimensions.  z (M, K) -> (M,)."""
        return gaussian_log_prob(z, np.zeros_like(z), 0.0)

    def log_prob_grad(self, params, z: np.ndarray, dout: np.ndarray, grads) -> np.ndarray:
        """d/dz of sum_m dout_m log N(z_m; 0, I) = -dout_m z_m.  -> (M, K)."""
        dmean, _ = gaussian_log_prob_grad(z, np.zeros_like(z), 0.0, dout)
        return -dmean  # d/dz of log N(z; m, I) is minus its derivative with respect to m


class MixturePrior:
    """p(z) = sum_c softmax(w)_c N(z; m_c, diag exp(s_c)) over C learned components.

    Parameters: prior.means (C, K), prior.logvars (C, K), prior.logits (C,). The KL of
    the ELBO is the one-sample estimate log q(z|x) - log p(z) (see the module docstring).
    """

    name = "mixture"

    def __init__(self, latent: int, components: int):
        self.latent, self.components = latent, components

    def shapes(self) -> dict[str, tuple[int, ...]]:
        c, k = self.components, self.latent
        return {"prior.means": (c, k), "prior.logvars": (c, k), "prior.logits": (c,)}

    def init(self, params, rng: np.random.Generator) -> None:
        """Means drawn from N(0, I), unit variances, equal weights: a start that covers N(0, I)."""
        params["prior.means"][...] = check_generator("rng", rng).standard_normal(params["prior.means"].shape)
        params["prior.logvars"][...] = 0.0
        params["prior.logits"][...] = 0.0

    def weights(self, params) -> np.ndarray:
        """pi = softmax(w), the components' probabilities.  -> (C,)."""
        logits = params["prior.logits"]
        return np.exp(logits - logsumexp(logits, axis=0))

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """n codes: a component c ~ pi for each, then z ~ N(m_c, diag exp(s_c)).  -> (n, K)."""
        pi = self.weights(params).astype(np.float64)
        c = rng.choice(self.components, size=n, p=pi / pi.sum())  # (n,)
        eps = rng.standard_normal((n, self.latent), dtype=params.flat.dtype)
        return reparameterize(params["prior.means"][c], params["prior.logvars"][c], eps)

    def component_log_probs(self, params, z: np.ndarray) -> np.ndarray:
        """a_nc = log pi_c + log N(z_n; m_c, diag exp(s_c)).  z (M, K) -> (M, C)."""
        m, c = z.shape[0], self.components
        z_mc, means, logvars = self._pairs(params, z)  # (M * C, K) each
        log_n = gaussian_log_prob(z_mc, means, logvars).reshape(m, c)  # (M, C)
        logits = params["prior.logits"]
        return log_n + (logits - logsumexp(logits, axis=0))  # + log softmax(w)

    def log_prob(self, params, z: np.ndarray) -> np.ndarray:
        """log p(z_n) = logsumexp_c a_nc.  z (M, K) -> (M,)."""
        return logsumexp(self.component_log_probs(params, z), axis=1)

    def log_prob_grad(self, params, z: np.ndarray, dout: np.ndarray, grads) -> np.ndarray:
        """d/dz of sum_n dout_n log p(z_n), (M, K); the prior's own gradients go into ``grads``.

        Writes grads['prior.means'], ['prior.logvars'], ['prior.logits'] (overwriting them).
        """
        m, c = z.shape[0], self.components
        a = self.component_log_probs(params, z)  # (M, C)
        # r_nc = softmax_c(a_nc); below 1e-38 it is 0 to every sum (numvae.subnormals)
        r = flush_subnormals(np.exp(a - logsumexp(a, axis=1)[:, None]))  # (M, C)
        weight = r * np.asarray(dout, dtype=z.dtype)[:, None]  # dout_n r_nc: d/da_nc
        z_mc, means, logvars = self._pairs(params, z)
        dmean, dlogvar = gaussian_log_prob_grad(z_mc, means, logvars, weight.reshape(-1))  # (M * C, K)
        dmean, dlogvar = dmean.reshape(m, c, -1), dlogvar.reshape(m, c, -1)
        np.sum(dmean, axis=0, out=grads["prior.means"])  # sum over examples
        np.sum(dlogvar, axis=0, out=grads["prior.logvars"])
        pi = self.weights(params)  # (C,)
        grads["prior.logits"][...] = weight.sum(axis=0) - pi * weight.sum()  # sum_n dout_n (r_nc - pi_c)
        return -dmean.sum(axis=1)  # d/dz = -d/dmean, summed over components: (M, K)

    def kl(self, params, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> np.ndarray:
        """One-sample estimate log q(z|x) - log p(z) at the drawn z.  -> (N,)."""
        return gaussian_log_prob(z, mu, logvar) - self.log_prob(params, z)

    def kl_grads(self, params, mu, logvar, z, dout: np.ndarray, grads):
        """Gradients of sum_n dout_n [log q(z_n|x_n) - log p(z_n)] with z held as an input.

        Returns (dmu, dlogvar, dz), each (N, K); the VAE adds dz to the decoder's and sends
        it back through z = mu + sigma * eps, so the total derivative is formed there.
        The prior's own gradients go into ``grads``.
        """
        dmean_q, dlogvar_q = gaussian_log_prob_grad(z, mu, logvar, dout)  # of log q
        dz_p = self.log_prob_grad(params, z, -np.asarray(dout), grads)  # of -log p
        return dmean_q, dlogvar_q, dz_p - dmean_q  # d log q / dz = -d log q / dmu

    def _pairs(self, params, z):
        """(z_n, m_c, s_c) for every pair n, c as three (M * C, K) arrays, n-major."""
        m, (c, k) = z.shape[0], params["prior.means"].shape
        z_mc = np.broadcast_to(z[:, None, :], (m, c, k)).reshape(m * c, k)
        means = np.broadcast_to(params["prior.means"], (m, c, k)).reshape(m * c, k)
        logvars = np.broadcast_to(params["prior.logvars"], (m, c, k)).reshape(m * c, k)
        return z_mc, means, logvars


PRIORS = {"standard": StandardNormalPrior, "mixture": MixturePrior}
