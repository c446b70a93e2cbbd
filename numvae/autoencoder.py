"""The plain autoencoder: the VAE without sampling and without the KL term.

    z = MLP_enc(x) W_z + b_z,   logits = MLP_dec(z) W_out + b_out,
    loss = 1/N sum_n -log p(x_n | z_n)

Same encoder and decoder shapes as ``VAE`` (its mean head plays the code), so the two
can be trained side by side. Nothing pushes its codes towards N(0, I), which is why
decoding random z ~ N(0, I) gives poor images (the seed's closing comparison, and
lesson 10).
"""

from __future__ import annotations

import numpy as np

from .layers import linear_backward, linear_forward
from .mlp import linear_shapes, mlp_backward, mlp_forward
from .model import EncoderDecoder
from .vae import LossParts


class Autoencoder(EncoderDecoder):
    """A deterministic autoencoder over explicit parameters (see ``VAE``)."""

    def head_shapes(self):
        c = self.config
        width = c.hidden[-1] if c.hidden else c.input_dim
        return linear_shapes("enc.mu", width, c.latent)

    def _encode(self, params, x):
        h, enc_caches = mlp_forward(params, "enc", x, len(self.config.hidden))
        z, z_cache = linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])
        return z, (enc_caches, z_cache)

    def encode(self, params, x):
        """The code z = encoder(x). Shapes: (N, D) -> (N, K)."""
        return self._encode(params, self.check_data(x))[0]

    def reconstruct(self, params, x):
        """decode(encode(x)). Shapes: (N, D) -> (N, D)."""
        return self.decode(params, self.encode(params, x))

    def loss_and_grads(self, params, x, *, eps=None, rng=None, beta: float = 1.0, out=None):
        """Reconstruction loss mean_n -log p(x_n|z_n) and its gradients.

        ``eps``, ``rng`` and ``beta`` are accepted (and unused) so that the training loop
        can drive an Autoencoder and a VAE alike; kl is reported as 0.
        """
        x = self.check_data(x)
        n = x.shape[0]
        grads = params.zeros_like() if out is None else out
        z, (enc_caches, z_cache) = self._encode(params, x)
        logits, dec_cache = self._decode_logits(params, z)
        log_px, dlogits = self._log_likelihood_and_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype))
        recon = -float(log_px.mean())

        dz = self._decode_backward(dlogits, dec_cache, grads)
        first = not self.config.hidden
        dh, _, _ = linear_backward(
            dz, z_cache, compute_dx=not first, out=(grads["enc.mu.W"], grads["enc.mu.b"])
        )
        if not first:
            mlp_backward(dh, enc_caches, grads, "enc", compute_dx=False)
        return LossParts(recon, recon, 0.0), grads

    def loss(self, params, x, *, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """Reconstruction loss (forward only)."""
        x = self.check_data(x)
        z, _ = self._encode(params, x)
        recon = -float(self._log_likelihood(x, self._decode_logits(params, z)[0]).mean())
        return LossParts(recon, recon, 0.0)
