"""The plain autoencoder: the VAE without sampling and without the KL term.

    z = MLP_enc(x) W_z + b_z,   logits = MLP_dec(z) W_out + b_out,
    loss = 1/N sum_n -log p(x_n | z_n)

Same encoder and decoder shapes as ``VAE`` (its mean head plays the code), so the two
can be trained side by side; the networks (``networks.py``) and the likelihood are the VAE's too.
Nothing pushes its codes towards N(0, I), which is why decoding random z ~ N(0, I) gives
poor images (the seed's closing comparison, and lesson 10).
"""

from __future__ import annotations

import numpy as np

from .layers import linear_backward, linear_forward, sigmoid
from .likelihoods import log_likelihood, log_likelihood_grad
from .mlp import init_params, linear_shapes
from .model_config import ModelConfig, check_data, check_labels
from .networks import (
    decoder_backward,
    decoder_forward,
    decoder_shapes,
    encoder_body_backward,
    encoder_body_forward,
    encoder_needs_dh,
    encoder_shapes,
)
from .params import ParamDict, check_params
from .plumbing.checks import as_matrix, check_generator, check_positive_int
from .train import LossParts


class Autoencoder:
    """A deterministic autoencoder over explicit parameters (see ``VAE``)."""

    def __init__(self, config: ModelConfig):
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        plain = {"classes": 0, "prior": "standard", "objective": "elbo"}
        chosen = {name: getattr(config, name) for name in plain if getattr(config, name) != plain[name]}
        if chosen:
            raise ValueError(f"the plain autoencoder has no label, prior or objective, got {chosen}")
        self.config = config

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Encoder, its code layer enc.mu, decoder: the VAE's names without the variance head."""
        encoder, width = encoder_shapes(self.config)
        code = linear_shapes("enc.mu", width, self.config.latent)
        return {**encoder, **code, **decoder_shapes(self.config)}

    def init_params(self, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
        return init_params(self.param_shapes(), rng, dtype)

    def check_params(self, params) -> None:
        """Raise ValueError naming every missing, unexpected or misshapen parameter."""
        check_params(params, self.param_shapes())

    def check_data(self, x, y=None):
        """(x (N, D) float, None): the autoencoder reads no label."""
        x = check_data(x, self.config)
        return x, check_labels(y, x.shape[0], self.config)

    def encode_forward(self, params, x: np.ndarray):
        """The code z = MLP_enc(x) W_z + b_z.  x (N, D) -> (z (N, K), cache)."""
        h, body_cache = encoder_body_forward(params, x, None, self.config)  # (N, H)
        z, z_cache = linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])  # (N, K)
        return z, (body_cache, z_cache)

    def encode_backward(self, dz: np.ndarray, cache, grads) -> None:
        """Every encoder gradient into ``grads`` from dz (N, K)."""
        body_cache, z_cache = cache
        compute_dh = encoder_needs_dh(self.config)  # not when h is x itself
        dh, _, _ = linear_backward(dz, z_cache, compute_dx=compute_dh,
                                   out=(grads["enc.mu.W"], grads["enc.mu.b"]))
        if compute_dh:
            encoder_body_backward(dh, body_cache, grads, self.config)

    def encode(self, params, x):
        """The code z = encoder(x). Shapes: (N, D) -> (N, K)."""
        return self.encode_forward(params, self.check_data(x)[0])[0]

    def decode(self, params, z: np.ndarray) -> np.ndarray:
        """Mean image sigmoid(logits) in [0, 1]. Shapes: z (N, K) -> (N, D)."""
        z = as_matrix("z", z, self.config.latent)
        return sigmoid(decoder_forward(params, z, self.config)[0])

    def reconstruct(self, params, x):
        """decode(encode(x)). Shapes: (N, D) -> (N, D)."""
        return self.decode(params, self.encode(params, x))

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """Decode n codes z ~ N(0, I), as for the VAE (what lesson 10 shows goes wrong)."""
        n = check_positive_int("n", n)
        z = check_generator("rng", rng).standard_normal((n, self.config.latent), dtype=params.flat.dtype)
        return self.decode(params, z)

    def loss(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """Reconstruction loss (forward only)."""
        x, _ = self.check_data(x, y)
        z, _ = self.encode_forward(params, x)
        recon = -float(np.mean(log_likelihood(x, decoder_forward(params, z, self.config)[0], self.config)))
        return LossParts(recon, recon, 0.0)

    def loss_and_grads(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0, out=None):
        """Reconstruction loss mean_n -log p(x_n|z_n) and its gradients.

        ``eps``, ``rng`` and ``beta`` are accepted (and unused) so that the training loop
        can drive an Autoencoder and a VAE alike; kl is reported as 0. ``y`` must be None.
        """
        x, _ = self.check_data(x, y)
        n, config = x.shape[0], self.config
        grads = params.zeros_like() if out is None else out
        z, enc_cache = self.encode_forward(params, x)  # (N, K)
        logits, dec_cache = decoder_forward(params, z, config)  # (N, D)
        recon = -float(np.mean(log_likelihood(x, logits, config)))

        dlogits = log_likelihood_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype), config)
        dz = decoder_backward(dlogits, dec_cache, grads, config)  # (N, K)
        self.encode_backward(dz, enc_cache, grads)
        return LossParts(recon, recon, 0.0), grads
