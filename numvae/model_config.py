"""The choices that define an encoder-decoder model: sizes, likelihood, variance head.

``ModelConfig`` is plain data: the VAE (``vae.py``) and the plain autoencoder
(``autoencoder.py``) read it, a run folder stores it as JSON, and every value is checked
here, once, so a bad choice is refused before any array is made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .plumbing.checks import check_positive_int

LIKELIHOODS = ("bernoulli", "gaussian")
VARIANCE_HEADS = ("logvar", "relu")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and choices of an encoder-decoder model.

    input_dim: D, pixels per image.     hidden: encoder layer widths (decoder mirrors them).
    latent: K, size of z.               likelihood: 'bernoulli' or 'gaussian' (p(x|z)).
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
