"""The variational autoencoder: encoder q(z|x), reparameterized sampling, decoder p(x|z).

Forward pass for a mini-batch x (N, D), following the seed's picture:

    h       = MLP_enc(x)                                  (N, H)
    mu      = h W_mu + b_mu                               (N, K)
    logvar  = h W_lv + b_lv                 'logvar' head (N, K)
            | 2 ln( ReLU(h W_s + b_s) + 0.05 )  'relu' head, the seed's sigma
    z       = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)  (N, K)
    logits  = MLP_dec(z) W_out + b_out                    (N, D)

    loss = -ELBO = 1/N sum_n [ -log p(x_n | z_n) + beta KL(q(z|x_n) || N(0, I)) ]

The reconstruction term is summed over the D pixels and the KL over the K latent
dimensions; both are then averaged over the N examples (the seed's reduction). The
backward pass is the forward pass read from the bottom up, each step the backward of a
primitive from ``layers``, ``likelihoods``, ``kl`` and ``reparameterization``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, check_finite, check_same_shape
from .heads import sigma_head_backward, sigma_head_forward
from .kl import _kl_normal_std, _kl_normal_std_grad
from .layers import linear_backward, linear_forward
from .mlp import linear_shapes, mlp_backward, mlp_forward
from .model import EncoderDecoder, ModelConfig
from .reparameterization import _reparameterize, _reparameterize_backward


@dataclass(frozen=True)
class LossParts:
    """A mini-batch's loss and its two terms, each averaged over the batch.

    loss = recon + beta * kl, where recon = mean_n -log p(x_n|z_n) (nats per image,
    summed over pixels) and kl = mean_n KL(q(z|x_n) || p(z)) (summed over latent dims).
    """

    loss: float
    recon: float
    kl: float


class VAE(EncoderDecoder):
    """A VAE over explicit parameters: ``VAE(config)`` holds only the configuration.

    Every method takes the parameters (a ``ParamDict``) as an argument, so the same
    model object serves float32 training and float64 gradient checks alike.
    """

    def head_shapes(self):
        c = self.config
        width = c.hidden[-1] if c.hidden else c.input_dim
        var_name = "enc.logvar" if c.variance_head == "logvar" else "enc.sigma"
        return {**linear_shapes("enc.mu", width, c.latent), **linear_shapes(var_name, width, c.latent)}

    # ----- encoder ------------------------------------------------------------------
    def _encode(self, params, x):
        h, enc_caches = mlp_forward(params, "enc", x, len(self.config.hidden))
        mu, mu_cache = linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])
        if self.config.variance_head == "logvar":
            logvar, var_cache = linear_forward(h, params["enc.logvar.W"], params["enc.logvar.b"])
        else:
            s, lin_cache = linear_forward(h, params["enc.sigma.W"], params["enc.sigma.b"])
            logvar, head_cache = sigma_head_forward(s, self.config.sigma_floor)
            var_cache = (lin_cache, head_cache)
        return mu, logvar, (enc_caches, mu_cache, var_cache)

    def _encode_backward(self, dmu, dlogvar, cache, grads):
        enc_caches, mu_cache, var_cache = cache
        first = not self.config.hidden  # heads read x directly: no dx needed
        dh, _, _ = linear_backward(
            dmu, mu_cache, compute_dx=not first, out=(grads["enc.mu.W"], grads["enc.mu.b"])
        )
        if self.config.variance_head == "logvar":
            dh_var, _, _ = linear_backward(
                dlogvar, var_cache, compute_dx=not first,
                out=(grads["enc.logvar.W"], grads["enc.logvar.b"]),
            )
        else:
            lin_cache, head_cache = var_cache
            ds = sigma_head_backward(dlogvar, head_cache)
            dh_var, _, _ = linear_backward(
                ds, lin_cache, compute_dx=not first,
                out=(grads["enc.sigma.W"], grads["enc.sigma.b"]),
            )
        if not first:
            dh += dh_var
            mlp_backward(dh, enc_caches, grads, "enc", compute_dx=False)

    def encode(self, params, x: np.ndarray):
        """Parameters of q(z|x) = N(mu, diag exp(logvar)). x (N, D) -> (mu, logvar), (N, K) each."""
        x = self.check_data(x)
        mu, logvar, _ = self._encode(params, x)
        return mu, logvar

    def reconstruct(self, params, x: np.ndarray) -> np.ndarray:
        """Decode the posterior mean: decode(mu(x)). Shapes: (N, D) -> (N, D)."""
        mu, _ = self.encode(params, x)
        return self.decode(params, mu)

    # ----- loss ----------------------------------------------------------------------
    def _eps(self, x, mu, eps, rng):
        if (eps is None) == (rng is None):
            raise ValueError("pass exactly one of eps (frozen noise) or rng (fresh noise)")
        if eps is None:
            if not isinstance(rng, np.random.Generator):
                raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
            return rng.standard_normal(mu.shape, dtype=mu.dtype)
        eps = as_float_array("eps", eps)
        check_same_shape("eps", eps, "mu (N, latent)", mu)
        check_finite("eps", eps)
        return eps

    def elbo_terms(self, params, x, *, eps=None, rng=None):
        """Per-example terms with one sample z ~ q(z|x): (log p(x|z) (N,), KL (N,)).

        ELBO_n = log p(x_n|z_n) - KL_n is an unbiased estimate of each example's ELBO.
        """
        x = self.check_data(x)
        mu, logvar, _ = self._encode(params, x)
        z = _reparameterize(mu, logvar, self._eps(x, mu, eps, rng))
        logits, _ = self._decode_logits(params, z)
        return self._log_likelihood(x, logits), _kl_normal_std(mu, logvar)

    def loss_and_grads(self, params, x, *, eps=None, rng=None, beta: float = 1.0, out=None):
        """-ELBO of a mini-batch and the analytic gradient of every parameter.

        Shapes: x (N, D); eps (N, K) frozen noise, or rng to draw it.
        ``beta`` weights the KL (1 is the true ELBO; <1 during KL warm-up).
        ``out``: a ParamDict to write the gradients into (reused across steps).
        Returns (LossParts, grads) with grads under the same names as params.
        """
        x = self.check_data(x)
        n = x.shape[0]
        grads = params.zeros_like() if out is None else out
        # x and eps are checked here, once; the steps below work on arrays this method made,
        # so they call the unchecked forms (_reparameterize, ...) of the public functions.

        # forward, top to bottom
        mu, logvar, enc_cache = self._encode(params, x)
        eps = self._eps(x, mu, eps, rng)
        z = _reparameterize(mu, logvar, eps)
        logits, dec_cache = self._decode_logits(params, z)
        # d loss / d log p(x_n|z_n) = -1/N: the likelihood returns its value and gradient together
        log_px, dlogits = self._log_likelihood_and_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype))
        kl = _kl_normal_std(mu, logvar)  # (N,) summed over latent dims
        recon, kl_mean = -float(np.mean(log_px)), float(np.mean(kl))  # log_px summed over pixels

        # backward, bottom to top: d loss / d KL_n = beta/N
        dz = self._decode_backward(dlogits, dec_cache, grads)
        dmu, dlogvar = _reparameterize_backward(dz, mu, logvar, eps)
        dmu_kl, dlogvar_kl = _kl_normal_std_grad(mu, logvar, np.full(n, beta / n, dtype=x.dtype))
        dmu += dmu_kl
        dlogvar += dlogvar_kl
        self._encode_backward(dmu, dlogvar, enc_cache, grads)
        return LossParts(recon + beta * kl_mean, recon, kl_mean), grads

    def loss(self, params, x, *, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """-ELBO of a mini-batch (forward only); see ``loss_and_grads``."""
        log_px, kl = self.elbo_terms(params, x, eps=eps, rng=rng)
        recon, kl_mean = -float(np.mean(log_px)), float(np.mean(kl))
        return LossParts(recon + beta * kl_mean, recon, kl_mean)


__all__ = ["VAE", "ModelConfig", "LossParts"]
