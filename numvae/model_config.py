"""The choices that define an encoder-decoder model: sizes, likelihood, variance head,
and the next chapter's three axes: conditioning on a label, the prior, the objective.

``ModelConfig`` is plain data: the VAE (``vae.py``) and the plain autoencoder
(``autoencoder.py``) read it, a run folder stores it as JSON, and every value is checked
here, once, so a bad choice is refused before any array is made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .plumbing.checks import as_matrix, check_finite, check_positive_int

LIKELIHOODS = ("bernoulli", "gaussian")
VARIANCE_HEADS = ("logvar", "relu", "softplus")
PRIORS = ("standard", "mixture")
ARCHITECTURES = ("mlp", "conv")
ACTIVATIONS = ("relu", "elu", "tanh")
OBJECTIVES = ("elbo", "iwae")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and choices of an encoder-decoder model.

    input_dim: D, pixels per image.     hidden: encoder layer widths (decoder mirrors them).
    latent: K, size of z.               likelihood: 'bernoulli' or 'gaussian' (p(x|z)).
    variance_head: 'logvar' (logvar = h W + b, the common choice), 'relu' (the seed's
    sigma = ReLU(h W + b) + sigma_floor) or 'softplus' (CS236's variance
    softplus(h W + b) + 1e-8); ignored by the plain autoencoder.
    activation: of the hidden layers, 'relu' (the lecture's), 'elu' or 'tanh'.
    arch: 'mlp' (fully connected throughout) or 'conv' (the lecture's convolutional
    encoder and decoder around the hidden layers, ``conv_net.py``), which needs
    image_shape (H, W) with H * W = input_dim and H, W multiples of 4, and uses
    conv_channels (C1, C2) channels.
    output_logvar: log-variance of the Gaussian likelihood (0 means sigma = 1).

    The next chapter's axes, each independent of the others:
    classes: 0 for p(x|z); C > 0 for the conditional VAE, q(z|x, y) and p(x|z, y) with the
    label y (one of C classes) one-hot and appended to the encoder's and decoder's inputs.
    prior: 'standard' (N(0, I), the KL in closed form) or 'mixture' (a learned mixture of
    ``components`` Gaussians, the KL estimated from the drawn z; see ``priors``).
    objective: 'elbo', or 'iwae': the importance-weighted bound L_k with ``k`` draws per
    example (Burda et al. 2015; k = 1 is the ELBO with the KL estimated from the draw).
    """

    input_dim: int
    hidden: tuple[int, ...] = (128,)
    latent: int = 2
    likelihood: str = "bernoulli"
    variance_head: str = "logvar"
    sigma_floor: float = 0.05
    output_logvar: float = 0.0
    activation: str = "relu"
    arch: str = "mlp"
    image_shape: tuple[int, int] | None = None
    conv_channels: tuple[int, int] = (32, 64)
    classes: int = 0
    prior: str = "standard"
    components: int = 0
    objective: str = "elbo"
    k: int = 1

    def __post_init__(self):
        check_positive_int("input_dim", self.input_dim)
        check_positive_int("latent", self.latent)
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise TypeError(f"hidden must be a sequence of positive integers such as (512, 256), "
                            f"got {self.hidden!r}")
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
        self._check_network()
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        _check_real("sigma_floor", self.sigma_floor, "a positive finite number")
        if not 0 < self.sigma_floor < np.inf:
            raise ValueError(f"sigma_floor must be a positive finite number, got {self.sigma_floor}")
        _check_real("output_logvar", self.output_logvar, "a finite number")
        if not np.isfinite(self.output_logvar):
            raise ValueError(f"output_logvar must be a finite number, got {self.output_logvar}")
        if (isinstance(self.classes, bool) or not isinstance(self.classes, (int, np.integer))
                or self.classes < 0):
            raise ValueError(f"classes must be 0 (no label) or a positive number of classes, "
                             f"got {self.classes!r}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if self.prior == "standard" and self.components != 0:
            raise ValueError(f"components is the mixture prior's; with prior='standard' it must be 0, "
                             f"got {self.components!r}")
        if self.prior != "standard":
            check_positive_int("components", self.components)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        check_positive_int("k", self.k)
        if self.objective == "elbo" and self.k != 1:
            raise ValueError(f"k is the number of draws of objective='iwae'; the ELBO uses one, "
                             f"got k={self.k}")

    def _check_network(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        channels = tuple(self.conv_channels)
        if len(channels) != 2:
            raise ValueError(f"conv_channels must be two channel counts (C1, C2), got {self.conv_channels!r}")
        for i, c in enumerate(channels):
            check_positive_int(f"conv_channels[{i}]", c)
        object.__setattr__(self, "conv_channels", tuple(int(c) for c in channels))
        if self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) != 2:
                raise ValueError(f"image_shape must be (height, width), got {self.image_shape!r}")
            for i, side in enumerate(shape):
                check_positive_int(f"image_shape[{i}]", side)
            if shape[0] * shape[1] != self.input_dim:
                raise ValueError(f"image_shape {shape} holds {shape[0] * shape[1]} pixels, but input_dim is "
                                 f"{self.input_dim}")
            object.__setattr__(self, "image_shape", (int(shape[0]), int(shape[1])))
        if self.arch == "conv":
            if self.image_shape is None:
                raise ValueError("arch='conv' needs image_shape=(height, width): the convolutions see images")
            if self.image_shape[0] % 4 or self.image_shape[1] % 4:
                raise ValueError(f"arch='conv' halves each side twice, so image_shape must be multiples "
                                 f"of 4, got {self.image_shape} (pad the images, e.g. MNIST's 28 x 28 "
                                 f"to 32 x 32)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["classes"], d["components"], d["k"] = int(self.classes), int(self.components), int(self.k)
        d["hidden"] = list(self.hidden)
        d["conv_channels"] = list(self.conv_channels)
        d["image_shape"] = None if self.image_shape is None else list(self.image_shape)
        return d


def _check_real(name: str, value, expected: str) -> None:
    """TypeError unless ``value`` is a real number (bool and strings are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {expected}, got {value!r}")


# ----- the data a model reads -----------------------------------------------------------------
def check_data(x, config: ModelConfig) -> np.ndarray:
    """x as a float array of shape (N, input_dim), finite, or a ValueError naming x."""
    x = as_matrix("x", x, config.input_dim, "features")
    check_finite("x", x)
    return x


def check_labels(y, n: int, config: ModelConfig) -> np.ndarray | None:
    """y as int64 labels (n,) in [0, classes) for a conditional model, None for the others."""
    if config.classes == 0:
        if y is not None:
            raise ValueError("y must be None: this model is not conditional (classes=0)")
        return None
    if y is None:
        raise ValueError(f"y (the labels) is required: this model is conditional (classes={config.classes})")
    labels = np.asarray(y)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per example, got shape {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= config.classes):
        raise ValueError(f"y must lie in [0, {config.classes - 1}] for {config.classes} classes, "
                         f"got values in [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int64, copy=False)


def with_label(inputs: np.ndarray, y: np.ndarray | None, classes: int) -> np.ndarray:
    """The conditional VAE's input: [inputs, one_hot(y)].  (N, M) -> (N, M + C); unchanged if y is None."""
    if y is None:
        return inputs
    one_hot = np.zeros((inputs.shape[0], classes), dtype=inputs.dtype)  # (N, C)
    one_hot[np.arange(inputs.shape[0]), y] = 1
    return np.concatenate([inputs, one_hot], axis=1)
