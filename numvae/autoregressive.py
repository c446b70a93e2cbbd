"""A tractable explicit density: the autoregressive product p(x) = prod_i p(x_i | x_<i).

The seed's example of a model whose p(x) can be written down and maximised directly
(PixelCNN is the famous one). This is its smallest member, the fully visible logistic
autoregressive model (a "fully visible sigmoid belief net"): pixel i, in raster order,
is a Bernoulli variable whose logit is a linear function of the pixels before it,

    logit_i = b_i + sum_{j < i} x_j W_ji,      p(x_i = 1 | x_<i) = sigmoid(logit_i),

    log p(x) = sum_i [ x_i logit_i - softplus(logit_i) ]      (exact, no bound).

All D logits come from one matrix product x (W * M) + b with the strictly upper
triangular mask M_ji = [j < i], so the likelihood and its gradient are as fast as a
linear layer. Sampling cannot be: pixel i needs pixels 1..i-1 first, so drawing an
image takes D sequential steps, where a VAE's decoder draws every pixel in one pass.

``LogisticAutoregressive`` has the same ``loss_and_grads`` / ``loss`` interface as
``VAE`` (the KL is reported as 0), so ``numvae.fit`` trains it unchanged.
"""

from __future__ import annotations

import numpy as np

from .layers import sigmoid
from .likelihoods import bernoulli_log_prob, bernoulli_log_prob_grad
from .params import ParamDict
from .plumbing.checks import (
    as_matrix,
    check_finite,
    check_generator,
    check_positive_int,
    check_probability_targets,
)
from .train import LossParts


def autoregressive_mask(d: int, dtype=np.float64) -> np.ndarray:
    """M (d, d) with M_ji = 1 if j < i else 0: column i sees only the pixels before i."""
    d = check_positive_int("d", d)
    return np.triu(np.ones((d, d), dtype=dtype), k=1)


class LogisticAutoregressive:
    """p(x) = prod_i Bernoulli(x_i | sigmoid(b_i + sum_{j<i} x_j W_ji)) over D binary pixels.

    Parameters: W (D, D) (only its strictly upper triangle is used) and b (D,).
    ``mask`` is the (D, D) autoregressive mask, built once here in float32: its 0s and 1s
    are exact in any dtype, and W * mask keeps W's own dtype (float32 or float64).
    """

    def __init__(self, input_dim: int):
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.mask = autoregressive_mask(self.input_dim, dtype=np.float32)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"W": (self.input_dim, self.input_dim), "b": (self.input_dim,)}

    def init_params(self, rng: np.random.Generator, dtype=np.float32) -> ParamDict:
        """W ~ U(-1/sqrt(D), 1/sqrt(D)) on the allowed entries (0 elsewhere), b = 0."""
        check_generator("rng", rng)
        params = ParamDict.zeros(self.param_shapes(), dtype=dtype)
        bound = 1.0 / np.sqrt(self.input_dim)
        params["W"][...] = rng.uniform(-bound, bound, size=params["W"].shape) * self.mask
        return params

    def check_data(self, x, y=None):
        """(x as a float array (N, D) with values in [0, 1], None), or raise naming x or y."""
        x = as_matrix("x", x, self.input_dim, "features")
        check_probability_targets("x", x)
        if y is not None:
            raise ValueError("y must be None: the autoregressive model reads no label")
        return x, None

    def logits(self, params, x: np.ndarray) -> np.ndarray:
        """logit_i = b_i + sum_{j<i} x_j W_ji for every pixel at once.  (N, D) -> (N, D)."""
        x, _ = self.check_data(x)
        return x @ (params["W"] * self.mask) + params["b"]

    def log_prob(self, params, x: np.ndarray) -> np.ndarray:
        """Exact log p(x_n) = sum_i log p(x_ni | x_n,<i), summed over pixels.  (N, D) -> (N,)."""
        x, _ = self.check_data(x)
        return bernoulli_log_prob(x, self.logits(params, x))

    def loss_and_grads(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0, out=None):
        """Mean negative log-likelihood -1/N sum_n log p(x_n) and its gradients.

        With G = d loss / d logits = -(x - sigmoid(logits)) / N  (N, D):
            dW = (x^T G) * M     db = sum_n G_n
        (the mask zeroes the gradient of the entries that are never used, so they stay 0).
        ``eps``, ``rng`` and ``beta`` are accepted and unused, as in ``Autoencoder``.
        Returns (LossParts(loss, recon=loss, kl=0), grads).
        """
        x, _ = self.check_data(x, y)
        n = x.shape[0]
        grads = params.zeros_like() if out is None else out
        logits = self.logits(params, x)
        nll = -float(np.mean(bernoulli_log_prob(x, logits)))
        dlogits = bernoulli_log_prob_grad(x, logits, np.full(n, -1.0 / n, dtype=x.dtype))
        np.matmul(x.T, dlogits, out=grads["W"])
        np.multiply(grads["W"], self.mask, out=grads["W"])
        np.sum(dlogits, axis=0, out=grads["b"])
        return LossParts(nll, nll, 0.0), grads

    def loss(self, params, x, *, y=None, eps=None, rng=None, beta: float = 1.0) -> LossParts:
        """Mean negative log-likelihood (forward only)."""
        self.check_data(x, y)
        nll = -float(np.mean(self.log_prob(params, x)))
        return LossParts(nll, nll, 0.0)

    def sample(self, params, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n binary images pixel by pixel.  -> (n, D) in the parameters' dtype.

        The loop over pixels is the point: x_i ~ Bernoulli(sigmoid(b_i + x_<i . W_<i,i))
        needs x_<i to exist, so D steps run one after another. Each step is vectorised
        over the n images.
        """
        n = check_positive_int("n", n)
        check_generator("rng", rng)
        W, b = params["W"], params["b"]
        check_finite("W", W)
        x = np.zeros((n, self.input_dim), dtype=W.dtype)
        u = rng.random((n, self.input_dim), dtype=W.dtype)
        for i in range(self.input_dim):
            logit = x[:, :i] @ W[:i, i] + b[i]
            x[:, i] = u[:, i] < sigmoid(logit)
        return x
