"""The variational autoencoder, read top to bottom in the order the lecture builds it.

For a mini-batch x (N, D), with K latent dimensions and H units in the last hidden layer:

    encoder   h      = MLP_enc(x)                                  (N, H)
    heads     mu     = h W_mu + b_mu                               (N, K)
              logvar = h W_lv + b_lv                'logvar' head  (N, K)
                     | 2 ln( ReLU(h W_s + b_s) + 0.05 )  'relu' head, the seed's sigma
                     | ln( softplus(h W_v + b_v) + 1e-8 ) 'softplus' head, CS236's variance
    sample    z      = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)  (N, K)
    decoder   logits = MLP_dec(z) W_out + b_out                    (N, D)
    loss      -ELBO  = 1/N sum_n [ -log p(x_n | z_n) + beta KL(q(z|x_n) || N(0, I)) ]

The reconstruction term is summed over the D pixels and the KL over the K latent
dimensions; both are then averaged over the N examples (the seed's reduction). The
backward pass is the forward pass read from the bottom up, each step the backward of a
public, checked primitive: ``layers`` (linear, ReLU, sigmoid, the seed's head),
``likelihoods``, ``kl`` and ``reparameterization``.

The next chapter's three choices plug in at marked places, each in a line or two: a
label y appended to the encoder's and decoder's inputs (the conditional VAE,
``ModelConfig(classes=C)``), a learned prior instead of N(0, I) (``priors.py``; its KL is
estimated from the drawn z), and the importance-weighted objective (``iwae.py``).

The encoder's hidden layers and the decoder are the plain functions of ``networks.py``
(an MLP, or the lecture's convolutions around one), which the plain autoencoder
(``autoencoder.py``, this model without sampling and without the KL) shares.
"""

from __future__ import annotations

import numpy as np

from . import iwae
from .layers import (
    linear_backward,
    linear_forward,
    relu_sigma_logvar_backward,
    relu_sigma_logvar_forward,
    sigmoid,
    softplus_variance_logvar_backward,
    softplus_variance_logvar_forward,
)
from .likelihoods import log_likelihood, log_likelihood_grad
from .mlp import init_params, linear_shapes
from .model_config import ModelConfig, check_data, check_labels, with_label
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
from .plumbing.checks import as_float_array, as_matrix, check_generator, check_positive_int
from .priors import PRIORS
from .reparameterization import reparameterize, reparameterize_backward
from .train import LossParts

# ----- the encoder's variance heads --------------------------------------------------------
# Each reads the last hidden layer h (N, H) and gives logvar (N, K); mu's head is a plain
# linear layer. The common head reads a linear output as a log-variance: any real number
# is one. The seed reads it as a standard deviation, made non-negative by a ReLU and kept
# away from 0 by a floor (0.05), since sigma = 0 would make q(z|x) a spike. A unit whose
# ReLU input is negative then sits at sigma = 0.05 and gets no gradient (lesson 08).
# Stanford's CS236 reads it as a variance made positive by a softplus, which never cuts a
# unit off; it is here to follow that course's published setup (benchmarks/reproduce.py).

def logvar_head_forward(params, h: np.ndarray, config: ModelConfig):
    """logvar = h W_lv + b_lv.  h (N, H) -> logvar (N, K); returns (logvar, cache)."""
    return linear_forward(h, params["enc.logvar.W"], params["enc.logvar.b"])


def logvar_head_backward(dlogvar, cache, grads, compute_dh: bool):
    """dW_lv, db_lv into ``grads``; returns dh (N, H), or None when not ``compute_dh``."""
    dh, _, _ = linear_backward(dlogvar, cache, compute_dx=compute_dh,
                               out=(grads["enc.logvar.W"], grads["enc.logvar.b"]))
    return dh


def relu_sigma_head_forward(params, h: np.ndarray, config: ModelConfig):
    """s = h W_s + b_s, logvar = 2 ln(ReLU(s) + sigma_floor).  (N, H) -> (N, K)."""
    s, linear_cache = linear_forward(h, params["enc.sigma.W"], params["enc.sigma.b"])
    logvar, head_cache = relu_sigma_logvar_forward(s, config.sigma_floor)
    return logvar, (linear_cache, head_cache)


def relu_sigma_head_backward(dlogvar, cache, grads, compute_dh: bool):
    """Through 2 ln(ReLU(s) + floor), then the linear layer; returns dh or None."""
    linear_cache, head_cache = cache
    ds = relu_sigma_logvar_backward(dlogvar, head_cache)
    dh, _, _ = linear_backward(ds, linear_cache, compute_dx=compute_dh,
                               out=(grads["enc.sigma.W"], grads["enc.sigma.b"]))
    return dh


def softplus_variance_head_forward(params, h: np.ndarray, config: ModelConfig):
    """s = h W_v + b_v, logvar = ln(softplus(s) + 1e-8).  (N, H) -> (N, K)."""
    s, linear_cache = linear_forward(h, params["enc.var.W"], params["enc.var.b"])
    logvar, head_cache = softplus_variance_logvar_forward(s)
    return logvar, (linear_cache, head_cache)


def softplus_variance_head_backward(dlogvar, cache, grads, compute_dh: bool):
    """Through ln(softplus(s) + 1e-8), then the linear layer; returns dh or None."""
    linear_cache, head_cache = cache
    ds = softplus_variance_logvar_backward(dlogvar, head_cache)
    dh, _, _ = linear_backward(ds, linear_cache, compute_dx=compute_dh,
                               out=(grads["enc.var.W"], grads["enc.var.b"]))
    return dh


# name of the head's layer, its forward, its backward
VARIANCE_HEADS = {
    "logvar": ("enc.logvar", logvar_head_forward, logvar_head_backward),
    "relu": ("enc.sigma", relu_sigma_head_forward, relu_sigma_head_backward),
    "softplus": ("enc.var", softplus_variance_head_forward, softplus_variance_head_backward),
}


class VAE:
    """A VAE over explicit parameters: ``VAE(config)`` holds only the configuration.

    Every method takes the parameters (a ``ParamDict``) as an argument, so the same
    model object serves float32 training and float64 gradient checks alike. A
    conditional model (``config.classes > 0``) takes the labels ``y`` (N,) wherever it
    takes x or z; the others take no y.
    """

    def __init__(self, config: ModelConfig):
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.head_name, self.head_forward, self.head_backward = VARIANCE_HEADS[config.variance_head]
        self.prior = PRIORS[config.prior](config.latent, config.components)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's name and shape, in the order of the flow: encoder, heads, decoder, prior."""
        c = self.config
        encoder, width = encoder_shapes(c)
        heads = {**linear_shapes("enc.mu", width, c.latent), **linear_shapes(self.head_name, width, c.latent)}
        return {**encoder, **heads, **decoder_shapes(c), **self.prior.shapes()}

    def init_params(self, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
        """Linear layers as PyTorch initialises them, then the prior's own parameters."""
        params = init_params(self.param_shapes(), rng, dtype)
        self.prior.init(params, rng)
        return params

    def check_params(self, params) -> None:
        """Raise ValueError naming every missing, unexpected or misshapen parameter."""
        check_params(params, self.param_shapes())

    def check_data(self, x, y=None):
        """(x (N, D) float, y (N,) int64 labels or None), checked against the configuration."""
        x = check_data(x, self.config)
        return x, check_labels(y, x.shape[0], self.config)

    # ----- encoder q(z|x) = N(mu, diag exp(logvar)) ----------------------------------------
    def encode_forward(self, params, x: np.ndarray, y=None):
        """x (N, D) -> (mu (N, K), logvar (N, K), cache) through the encoder and its heads."""
        h, body_cache = encoder_body_forward(params, x, y, self.config)  # (N, H)
        mu, mu_cache = linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])  # (N, K)
        logvar, head_cache = self.head_forward(params, h, self.config)  # (N, K)
        return mu, logvar, (body_cache, mu_cache, head_cache)

    def encode_backward(self, dmu: np.ndarray, dlogvar: np.ndarray, cache, grads) -> None:
        """Every encoder gradient into ``grads`` from dmu, dlogvar (N, K)."""
        body_cache, mu_cache, head_cache = cache
        compute_dh = encoder_needs_dh(self.config)  # not when h is x itself
        dh, _, _ = linear_backward(dmu, mu_cache, compute_dx=compute_dh,
                                   out=(grads["enc.mu.W"], grads["enc.mu.b"]))
        dh_head = self.head_backward(dlogvar, head_cache, grads, compute_dh)
        if compute_dh:
            dh += dh_head  # h feeds both heads: their gradients add
            encoder_body_backward(dh, body_cache, grads, self.config)

    def encode(self, params, x: np.ndarray, y=None):
        """Parameters of q(z|x): x (N, D) -> (mu, logvar), (N, K) each."""
        mu, logvar, _ = self.encode_forward(params, *self.check_data(x, y))
        return mu, logvar

    # ----- decoder p(x|z) -----------------------------------------------------------------
    def decode_forward(self, params, z: np.ndarray, y=None):
        """z (N, K) -> (logits (N, D), cache), reading [z, one_hot(y)] when conditional."""
        return decoder_forward(params, with_label(z, y, self.config.classes), self.config)

    def decode_backward(self, dlogits: np.ndarray, cache, grads) -> np.ndarray:
        """Every decoder gradient into ``grads``; returns dz (N, K) (the label's part dropped)."""
        return decoder_backward(dlogits, cache, grads, self.config)[:, :self.config.latent]

    def decode(self, params, z: np.ndarray, y=None) -> np.ndarray:
        """Mean image sigmoid(logits) in [0, 1]. Shapes: z (N, K) -> (N, D)."""
        z = as_matrix("z", z, self.config.latent)
        return sigmoid(self.decode_forward(params, z, check_labels(y, z.shape[0], self.config))[0])

    def reconstruct(self, params, x: np.ndarray, y=None) -> np.ndarray:
        """Decode the posterior mean: decode(mu(x)). Shapes: (N, D) -> (N, D)."""
        return self.decode(params, self.encode(params, x, y)[0], y)

    def log_likelihood(self, params, x: np.ndarray, z: np.ndarray, y=None) -> np.ndarray:
        """log p(x | z), summed over pixels. Shapes: x (N, D), z (N, K) -> (N,)."""
        x, y = self.check_data(x, y)
        z = as_matrix("z", z, self.config.latent)
        return log_likelihood(x, self.decode_forward(params, z, y)[0], self.config)

    def sample(self, params, n: int, rng: np.random.Generator, y=None) -> np.ndarray:
        """Decode n codes drawn from the prior p(z) (for labels y (n,) if conditional): (n, D)."""
        n = check_positive_int("n", n)
        z = self.prior.sample(params, n, check_generator("rng", rng))
        return self.decode(params, z, y)

    # ----- the loss --------------------------------------------------------------------------
    def noise(self, shape: tuple[int, ...], dtype, eps=None, rng=None) -> np.ndarray:
        """eps ~ N(0, I) of ``shape`` for z = mu + sigma * eps: the frozen ``eps`` given (a
        gradient check holds it fixed), or drawn from ``rng``; exactly one of the two."""
        if (eps is None) == (rng is None):
            raise ValueError("pass exactly one of eps (frozen noise) or rng (fresh noise)")
        if eps is None:
            return check_generator("rng", rng).standard_normal(shape, dtype=dtype)
        eps = as_float_array("eps", eps)
        if eps.shape != tuple(shape):
            raise ValueError(f"eps must have shape {tuple(shape)}, got {eps.shape}")
        return eps  # its values: checked by reparameterize

    def elbo_terms(self, params, x, *, y=None, eps=None, rng=None):
        """Per-example terms with one sample z ~ q(z|x): (log p(x|z) (N,), KL (N,)).

        ELBO_n = log p(x_n|z_n) - KL_n is an unbiased estimate of each example's ELBO (the
        KL exact for N(0, I), itself estimated from the same z for a learned prior).
        """
        x, y = self.check_data(x, y)
        mu, logvar, _ = self.encode_forward(params, x, y)
        z = reparameterize(mu, logvar, self.noise(mu.shape, mu.dtype, eps, rng))
        logits, _ = self.decode_forward(params, z, y)
        return log_likelihood(x, logits, self.config), self.prior.kl(params, mu, logvar, z)

    def loss(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """The objective of a mini-batch (forward only); see ``loss_and_grads``."""
        if self.config.objective == "iwae":
            _no_kl_weight(beta)
            return iwae.iwae_loss(self, params, x, y=y, eps=eps, rng=rng)
        log_px, kl = self.elbo_terms(params, x, y=y, eps=eps, rng=rng)
        recon, kl_mean = -float(log_px.mean()), float(kl.mean())
        return LossParts(recon + beta * kl_mean, recon, kl_mean)

    def loss_and_grads(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0, out=None):
        """-ELBO of a mini-batch and the analytic gradient of every parameter.

        Shapes: x (N, D); y (N,) labels of a conditional model; eps (N, K) frozen noise, or
        rng to draw it. ``beta`` weights the KL (1 is the true ELBO; <1 during KL warm-up).
        ``out``: a ParamDict to write the gradients into (reused across steps).
        Returns (LossParts, grads) with grads under the same names as params.
        With objective='iwae' the loss is -L_k instead: see ``iwae.iwae_loss_and_grads``.
        """
        x, y = self.check_data(x, y)
        n, config = x.shape[0], self.config
        grads = params.zeros_like() if out is None else out
        if config.objective == "iwae":  # -L_k from k draws per example, weighted: iwae.py
            _no_kl_weight(beta)
            return iwae.iwae_loss_and_grads(self, params, x, y, eps=eps, rng=rng, out=grads)

        # forward, top to bottom
        mu, logvar, enc_cache = self.encode_forward(params, x, y)  # (N, K) each
        eps = self.noise(mu.shape, mu.dtype, eps, rng)  # (N, K)
        z = reparameterize(mu, logvar, eps)  # (N, K)
        logits, dec_cache = self.decode_forward(params, z, y)  # (N, D)
        log_px = log_likelihood(x, logits, config)  # (N,): summed over pixels
        kl = self.prior.kl(params, mu, logvar, z)  # (N,): kl_standard_normal for N(0, I)
        recon, kl_mean = -float(log_px.mean()), float(kl.mean())

        # backward, bottom to top: d loss / d log p(x_n|z_n) = -1/N, d loss / d KL_n = beta/N
        dlogits = log_likelihood_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype), config)
        dz = self.decode_backward(dlogits, dec_cache, grads)  # (N, K)
        dmu_kl, dlogvar_kl, dz_kl = self.prior.kl_grads(params, mu, logvar, z,
                                                        np.full(n, beta / n, dtype=x.dtype), grads)
        dmu, dlogvar = reparameterize_backward(dz + dz_kl, mu, logvar, eps)  # dz_kl = 0 for N(0, I)
        self.encode_backward(dmu + dmu_kl, dlogvar + dlogvar_kl, enc_cache, grads)
        return LossParts(recon + beta * kl_mean, recon, kl_mean), grads


def _no_kl_weight(beta: float) -> None:
    if beta != 1:
        raise ValueError(f"beta weights the ELBO's KL term; objective='iwae' has none, so beta must be 1, "
                         f"got {beta}")


class CVAE(VAE):
    """The conditional VAE: a ``VAE`` whose configuration has classes > 0 (q(z|x, y), p(x|z, y)).

    The same model as ``VAE(config)``; this name only insists that the label is used.
    """

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        if config.classes < 1:
            raise ValueError("a CVAE needs the number of classes: ModelConfig(..., classes=C) with C >= 1")
