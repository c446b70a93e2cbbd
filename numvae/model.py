"""What the VAE and the plain autoencoder share: configuration, decoder, likelihood.

Both map x (N, D) through an encoder MLP to a code z (N, K) and back through a decoder
MLP to per-pixel logits (N, D). The likelihood p(x|z) reads those logits:

* ``bernoulli``: p(x_d = 1 | z) = sigmoid(logit_d)                (cross-entropy)
* ``gaussian``:  x_d ~ N(sigmoid(logit_d), exp(output_logvar))    (squared error;
  output_logvar = 0 is the seed's sigma = 1)

so ``decode`` returns the mean image sigmoid(logits) in [0, 1] for either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import numpy as np

from ._checks import as_matrix, check_finite, check_positive_int
from .layers import linear_backward, linear_forward, sigmoid
from .likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    gaussian_log_prob,
    gaussian_log_prob_grad,
)
from .mlp import init_uniform, linear_shapes, mlp_backward, mlp_forward, mlp_shapes
from .params import ParamDict

LIKELIHOODS = ("bernoulli", "gaussian")
VARIANCE_HEADS = ("logvar", "relu")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and choices of an encoder-decoder model.

    input_dim: D, pixels per image.     hidden: encoder layer widths (decoder mirrors them).
    latent: K, size of z.               likelihood: 'bernoulli' or 'gaussian'.
    variance_head: 'logvar' (logvar = h W + b, the common choice) or 'relu' (the seed's
    sigma = ReLU(h W + b) + sigma_floor); ignored by the plain autoencoder.
    output_logvar: log-variance of the Gaussian likelihood (0 means sigma = 1).
    """

    input_dim: int
    hidden: tuple[int, ...] = (128,)
    latent: int = 2
    likelihood: str = "bernoulli"
    variance_head: str = "logvar"
    sigma_floor: float = 0.05
    output_logvar: float = 0.0

    def __post_init__(self):
        check_positive_int("input_dim", self.input_dim)
        check_positive_int("latent", self.latent)
        hidden = tuple(self.hidden)
        for i, width in enumerate(hidden):
            check_positive_int(f"hidden[{i}]", width)
        object.__setattr__(self, "hidden", tuple(int(w) for w in hidden))
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.variance_head not in VARIANCE_HEADS:
            raise ValueError(
                f"variance_head must be one of {VARIANCE_HEADS}, got {self.variance_head!r}"
            )
        if not self.sigma_floor > 0:
            raise ValueError(f"sigma_floor must be positive, got {self.sigma_floor}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


class EncoderDecoder(ABC):
    """Common machinery; subclasses add the encoder heads and the loss."""

    def __init__(self, config: ModelConfig):
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config

    # ----- parameters -------------------------------------------------------------
    @abstractmethod
    def head_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the encoder's output layer(s): each model names its own."""

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's name and shape, encoder first, in the order of the flow."""
        c = self.config
        enc_sizes = (c.input_dim, *c.hidden)
        dec_sizes = (c.latent, *reversed(c.hidden))
        return {
            **mlp_shapes("enc", enc_sizes),
            **self.head_shapes(),
            **mlp_shapes("dec", dec_sizes),
            **linear_shapes("dec.out", dec_sizes[-1], c.input_dim),
        }

    def init_params(self, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
        """Fresh parameters, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like PyTorch's Linear."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        params = ParamDict.zeros(self.param_shapes(), dtype=dtype)
        init_uniform(params, rng)
        return params

    def check_params(self, params) -> None:
        """Raise ValueError naming every missing, unexpected or misshapen parameter."""
        expected = self.param_shapes()
        problems = [f"missing {n}" for n in expected if n not in params]
        problems += [f"unexpected {n}" for n in params if n not in expected]
        problems += [
            f"{n} has shape {params[n].shape}, expected {s}"
            for n, s in expected.items() if n in params and params[n].shape != s
        ]
        if problems:
            raise ValueError("params do not match the model: " + "; ".join(problems))

    def check_data(self, x) -> np.ndarray:
        """Return x as a float array of shape (N, input_dim), or raise naming x."""
        x = as_matrix("x", x, self.config.input_dim, "features")
        check_finite("x", x)
        return x

    # ----- decoder and likelihood --------------------------------------------------
    def _decode_logits(self, params, z):
        h, caches = mlp_forward(params, "dec", z, len(self.config.hidden))
        logits, out_cache = linear_forward(h, params["dec.out.W"], params["dec.out.b"])
        return logits, (caches, out_cache)

    def _decode_backward(self, dlogits, cache, grads):
        caches, out_cache = cache
        dh, _, _ = linear_backward(dlogits, out_cache, out=(grads["dec.out.W"], grads["dec.out.b"]))
        return mlp_backward(dh, caches, grads, "dec")

    def decode(self, params, z: np.ndarray) -> np.ndarray:
        """Mean image sigmoid(logits) in [0, 1]. Shapes: z (N, K) -> (N, D)."""
        z = as_matrix("z", z, self.config.latent)
        return sigmoid(self._decode_logits(params, z)[0])

    def _log_likelihood(self, x, logits):
        """log p(x | z) from the decoder's logits, summed over pixels: (N,)."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_prob(x, logits)
        return gaussian_log_prob(x, sigmoid(logits), self.config.output_logvar)

    def _log_likelihood_and_grad(self, x, logits, dout):
        """log p(x | z) (N,) and d/dlogits of sum_n dout_n log p(x_n | z_n) (N, D).

        Value and gradient in one call, so x is validated once and, for the Gaussian, the
        mean sigmoid(logits) is computed once.
        """
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_prob_and_grad(x, logits, dout)
        mean = sigmoid(logits)
        log_px = gaussian_log_prob(x, mean, self.config.output_logvar)
        dmean, _ = gaussian_log_prob_grad(x, mean, self.config.output_logvar, dout)
        return log_px, dmean * mean * (1 - mean)  # through the sigmoid: ds/dl = s (1 - s)

    def log_likelihood(self, params, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x | z), summed over pixels. Shapes: x (N, D), z (N, K) -> (N,)."""
        x = self.check_data(x)
        return self._log_likelihood(x, self._decode_logits(params, z)[0])

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """Decode n codes drawn from the prior p(z) = N(0, I): mean images (n, D)."""
        n = check_positive_int("n", n)
        z = rng.standard_normal((n, self.config.latent), dtype=params.flat.dtype)
        return self.decode(params, z)
