"""The variational autoencoder, read top to bottom in the order the lecture builds it.

For a mini-batch x (N, D), with K latent dimensions and H units in the last hidden layer:

    encoder   h      = MLP_enc(x)                                  (N, H)
    heads     mu     = h W_mu + b_mu                               (N, K)
              logvar = h W_lv + b_lv                'logvar' head  (N, K)
                     | 2 ln( ReLU(h W_s + b_s) + 0.05 )  'relu' head, the seed's sigma
    sample    z      = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)  (N, K)
    decoder   logits = MLP_dec(z) W_out + b_out                    (N, D)
    loss      -ELBO  = 1/N sum_n [ -log p(x_n | z_n) + beta KL(q(z|x_n) || N(0, I)) ]

The reconstruction term is summed over the D pixels and the KL over the K latent
dimensions; both are then averaged over the N examples (the seed's reduction). The
backward pass is the forward pass read from the bottom up, each step the backward of a
public, checked primitive: ``layers`` (linear, ReLU, sigmoid, the seed's head),
``likelihoods``, ``kl`` and ``reparameterization``.

The plain autoencoder (``autoencoder.py``) is this model without sampling and without
the KL: it reuses the decoder and the likelihood below, which are plain functions.
"""

from __future__ import annotations

import numpy as np

from .kl import kl_standard_normal, kl_standard_normal_grad
from .layers import (
    linear_backward,
    linear_forward,
    relu_sigma_logvar_backward,
    relu_sigma_logvar_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
)
from .likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_grad,
    gaussian_log_prob,
    gaussian_log_prob_grad,
)
from .mlp import init_uniform, linear_shapes, mlp_backward, mlp_forward, mlp_shapes
from .model_config import ModelConfig
from .params import ParamDict, check_params
from .plumbing.checks import as_float_array, as_matrix, check_finite, check_generator, check_positive_int
from .reparameterization import reparameterize, reparameterize_backward
from .train import LossParts

# ----- the encoder's two variance heads -----------------------------------------------------
# Both read the last hidden layer h (N, H) and give logvar (N, K); mu's head is a plain
# linear layer. The common head reads a linear output as a log-variance: any real number
# is one. The seed reads it as a standard deviation, made non-negative by a ReLU and kept
# away from 0 by a floor (0.05), since sigma = 0 would make q(z|x) a spike. A unit whose
# ReLU input is negative then sits at sigma = 0.05 and gets no gradient (lesson 08).

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


# name of the head's layer, its forward, its backward
VARIANCE_HEADS = {
    "logvar": ("enc.logvar", logvar_head_forward, logvar_head_backward),
    "relu": ("enc.sigma", relu_sigma_head_forward, relu_sigma_head_backward),
}


# ----- the decoder and the likelihood p(x|z) (shared with the autoencoder) ------------------
def decoder_forward(params, z: np.ndarray, config: ModelConfig):
    """logits = MLP_dec(z) W_out + b_out.  z (N, K) -> logits (N, D); returns (logits, cache)."""
    h, mlp_caches = mlp_forward(params, "dec", z, len(config.hidden))  # (N, H)
    logits, out_cache = linear_forward(h, params["dec.out.W"], params["dec.out.b"])  # (N, D)
    return logits, (mlp_caches, out_cache)


def decoder_backward(dlogits: np.ndarray, cache, grads) -> np.ndarray:
    """Every decoder gradient into ``grads``; returns dz (N, K)."""
    mlp_caches, out_cache = cache
    dh, _, _ = linear_backward(dlogits, out_cache, out=(grads["dec.out.W"], grads["dec.out.b"]))
    return mlp_backward(dh, mlp_caches, grads, "dec")


def log_likelihood(x: np.ndarray, logits: np.ndarray, config: ModelConfig) -> np.ndarray:
    """log p(x | z) from the decoder's logits, summed over pixels.  (N, D) -> (N,).

    'bernoulli': p(x_d = 1 | z) = sigmoid(logit_d)   (cross-entropy)
    'gaussian':  x_d ~ N(sigmoid(logit_d), exp(output_logvar))   (squared error)
    """
    if config.likelihood == "bernoulli":
        return bernoulli_log_prob(x, logits)
    return gaussian_log_prob(x, sigmoid(logits), config.output_logvar)


def log_likelihood_grad(x, logits, dout: np.ndarray, config: ModelConfig) -> np.ndarray:
    """d/dlogits of sum_n dout_n log p(x_n | z_n).  x, logits (N, D), dout (N,) -> (N, D)."""
    if config.likelihood == "bernoulli":
        return bernoulli_log_prob_grad(x, logits, dout)
    mean, cache = sigmoid_forward(logits)  # the Gaussian's mean image
    dmean, _ = gaussian_log_prob_grad(x, mean, config.output_logvar, dout)
    return sigmoid_backward(dmean, cache)


# ----- parameters and data ------------------------------------------------------------------
def decoder_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """dec.0 ... (the encoder's widths reversed), then dec.out: last width -> D."""
    sizes = (config.latent, *reversed(config.hidden))
    return {**mlp_shapes("dec", sizes), **linear_shapes("dec.out", sizes[-1], config.input_dim)}


def init_params(shapes: dict, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
    """Fresh parameters, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like PyTorch's Linear."""
    check_generator("rng", rng)
    params = ParamDict.zeros(shapes, dtype=dtype)
    init_uniform(params, rng)
    return params


def check_data(x, config: ModelConfig) -> np.ndarray:
    """x as a float array of shape (N, input_dim), finite, or a ValueError naming x."""
    x = as_matrix("x", x, config.input_dim, "features")
    check_finite("x", x)
    return x


class VAE:
    """A VAE over explicit parameters: ``VAE(config)`` holds only the configuration.

    Every method takes the parameters (a ``ParamDict``) as an argument, so the same
    model object serves float32 training and float64 gradient checks alike.
    """

    def __init__(self, config: ModelConfig):
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.head_name, self.head_forward, self.head_backward = VARIANCE_HEADS[config.variance_head]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's name and shape, in the order of the flow: encoder, heads, decoder."""
        c = self.config
        width = c.hidden[-1] if c.hidden else c.input_dim
        return {**mlp_shapes("enc", (c.input_dim, *c.hidden)),
                **linear_shapes("enc.mu", width, c.latent), **linear_shapes(self.head_name, width, c.latent),
                **decoder_shapes(c)}

    def init_params(self, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
        return init_params(self.param_shapes(), rng, dtype)

    def check_params(self, params) -> None:
        """Raise ValueError naming every missing, unexpected or misshapen parameter."""
        check_params(params, self.param_shapes())

    def check_data(self, x) -> np.ndarray:
        return check_data(x, self.config)

    # ----- encoder q(z|x) = N(mu, diag exp(logvar)) ----------------------------------------
    def encode_forward(self, params, x: np.ndarray):
        """x (N, D) -> (mu (N, K), logvar (N, K), cache) through the encoder and its heads."""
        h, mlp_caches = mlp_forward(params, "enc", x, len(self.config.hidden))  # (N, H)
        mu, mu_cache = linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])  # (N, K)
        logvar, head_cache = self.head_forward(params, h, self.config)  # (N, K)
        return mu, logvar, (mlp_caches, mu_cache, head_cache)

    def encode_backward(self, dmu: np.ndarray, dlogvar: np.ndarray, cache, grads) -> None:
        """Every encoder gradient into ``grads`` from dmu, dlogvar (N, K)."""
        mlp_caches, mu_cache, head_cache = cache
        compute_dh = bool(mlp_caches)  # without hidden layers h is x: no gradient needed
        dh, _, _ = linear_backward(dmu, mu_cache, compute_dx=compute_dh,
                                   out=(grads["enc.mu.W"], grads["enc.mu.b"]))
        dh_head = self.head_backward(dlogvar, head_cache, grads, compute_dh)
        if compute_dh:
            dh += dh_head  # h feeds both heads: their gradients add
            mlp_backward(dh, mlp_caches, grads, "enc", compute_dx=False)

    def encode(self, params, x: np.ndarray):
        """Parameters of q(z|x): x (N, D) -> (mu, logvar), (N, K) each."""
        mu, logvar, _ = self.encode_forward(params, self.check_data(x))
        return mu, logvar

    # ----- decoder p(x|z) -----------------------------------------------------------------
    def decode(self, params, z: np.ndarray) -> np.ndarray:
        """Mean image sigmoid(logits) in [0, 1]. Shapes: z (N, K) -> (N, D)."""
        z = as_matrix("z", z, self.config.latent)
        return sigmoid(decoder_forward(params, z, self.config)[0])

    def reconstruct(self, params, x: np.ndarray) -> np.ndarray:
        """Decode the posterior mean: decode(mu(x)). Shapes: (N, D) -> (N, D)."""
        return self.decode(params, self.encode(params, x)[0])

    def log_likelihood(self, params, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x | z), summed over pixels. Shapes: x (N, D), z (N, K) -> (N,)."""
        z = as_matrix("z", z, self.config.latent)
        return log_likelihood(self.check_data(x), decoder_forward(params, z, self.config)[0], self.config)

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """Decode n codes drawn from the prior p(z) = N(0, I): mean images (n, D)."""
        n = check_positive_int("n", n)
        z = check_generator("rng", rng).standard_normal((n, self.config.latent), dtype=params.flat.dtype)
        return self.decode(params, z)

    # ----- the loss --------------------------------------------------------------------------
    def noise(self, mu: np.ndarray, eps=None, rng=None) -> np.ndarray:
        """eps (N, K) for z = mu + sigma * eps: the frozen ``eps`` given, or drawn from ``rng``."""
        if (eps is None) == (rng is None):
            raise ValueError("pass exactly one of eps (frozen noise) or rng (fresh noise)")
        if eps is None:
            return check_generator("rng", rng).standard_normal(mu.shape, dtype=mu.dtype)
        return as_float_array("eps", eps)  # its shape and values: checked by reparameterize

    def elbo_terms(self, params, x, *, eps=None, rng=None):
        """Per-example terms with one sample z ~ q(z|x): (log p(x|z) (N,), KL (N,)).

        ELBO_n = log p(x_n|z_n) - KL_n is an unbiased estimate of each example's ELBO.
        """
        x = self.check_data(x)
        mu, logvar, _ = self.encode_forward(params, x)
        z = reparameterize(mu, logvar, self.noise(mu, eps, rng))
        logits, _ = decoder_forward(params, z, self.config)
        return log_likelihood(x, logits, self.config), kl_standard_normal(mu, logvar)

    def loss(self, params, x, *, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """-ELBO of a mini-batch (forward only); see ``loss_and_grads``."""
        log_px, kl = self.elbo_terms(params, x, eps=eps, rng=rng)
        recon, kl_mean = -float(np.mean(log_px)), float(np.mean(kl))
        return LossParts(recon + beta * kl_mean, recon, kl_mean)

    def loss_and_grads(self, params, x, *, eps=None, rng=None, beta: float = 1.0, out=None):
        """-ELBO of a mini-batch and the analytic gradient of every parameter.

        Shapes: x (N, D); eps (N, K) frozen noise, or rng to draw it.
        ``beta`` weights the KL (1 is the true ELBO; <1 during KL warm-up).
        ``out``: a ParamDict to write the gradients into (reused across steps).
        Returns (LossParts, grads) with grads under the same names as params.
        """
        x = self.check_data(x)
        n, config = x.shape[0], self.config
        grads = params.zeros_like() if out is None else out

        # forward, top to bottom
        mu, logvar, enc_cache = self.encode_forward(params, x)  # (N, K) each
        eps = self.noise(mu, eps, rng)  # (N, K)
        z = reparameterize(mu, logvar, eps)  # (N, K)
        logits, dec_cache = decoder_forward(params, z, config)  # (N, D)
        log_px = log_likelihood(x, logits, config)  # (N,): summed over pixels
        kl = kl_standard_normal(mu, logvar)  # (N,): summed over latent dimensions
        recon, kl_mean = -float(np.mean(log_px)), float(np.mean(kl))

        # backward, bottom to top: d loss / d log p(x_n|z_n) = -1/N, d loss / d KL_n = beta/N
        dlogits = log_likelihood_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype), config)
        dz = decoder_backward(dlogits, dec_cache, grads)  # (N, K)
        dmu, dlogvar = reparameterize_backward(dz, mu, logvar, eps)
        dmu_kl, dlogvar_kl = kl_standard_normal_grad(mu, logvar, np.full(n, beta / n, dtype=x.dtype))
        self.encode_backward(dmu + dmu_kl, dlogvar + dlogvar_kl, enc_cache, grads)
        return LossParts(recon + beta * kl_mean, recon, kl_mean), grads
