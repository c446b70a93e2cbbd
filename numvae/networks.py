"""The encoder's and the decoder's networks: an MLP, or the lecture's convolutions around one.

Both the VAE (``vae.py``) and the plain autoencoder (``autoencoder.py``) use these plain
functions; the heads, the sampling and the loss are the VAE's own.

    encoder   h = MLP_enc([features(x), one_hot(y)])        the layer the heads read  (N, H)
    decoder   logits = out(MLP_dec([z, one_hot(y)]))                                   (N, D)

features(x) is x itself for ModelConfig(arch='mlp') and the flattened output of two
stride-2 convolutions for arch='conv'; out is a linear layer (dec.out) for 'mlp' and the
dense layer and two transposed convolutions of ``conv_net.py`` for 'conv'. The label y
(a conditional model) is appended, one-hot, where the inputs become a vector.
"""

from __future__ import annotations

import numpy as np

from .conv_net import (
    conv_decoder_backward,
    conv_decoder_forward,
    conv_decoder_shapes,
    conv_encoder_backward,
    conv_encoder_forward,
    conv_encoder_shapes,
    feature_size,
)
from .layers import linear_backward, linear_forward
from .mlp import linear_shapes, mlp_backward, mlp_forward, mlp_shapes
from .model_config import ModelConfig, with_label


def encoder_body_forward(params, x: np.ndarray, y, config: ModelConfig):
    """h = MLP_enc([features(x), one_hot(y)]), the layer the heads read.  x (N, D) -> (h (N, H), cache).

    features(x) is x itself for arch='mlp', the flattened convolutions for arch='conv'.
    """
    features, conv_cache = conv_encoder_forward(params, x, config) if config.arch == "conv" else (x, None)
    inputs = with_label(features, y, config.classes)  # (N, F), or (N, F + C) with a label
    h, mlp_caches = mlp_forward(params, "enc", inputs, len(config.hidden), config.activation)
    return h, (conv_cache, mlp_caches, features.shape[1])


def encoder_body_backward(dh: np.ndarray, cache, grads, config: ModelConfig) -> None:
    """Every hidden layer's gradient into ``grads`` (none for the data itself)."""
    conv_cache, mlp_caches, n_features = cache
    dinputs = mlp_backward(dh, mlp_caches, grads, "enc", compute_dx=conv_cache is not None,
                           activation=config.activation)
    if conv_cache is not None:
        conv_encoder_backward(dinputs[:, :n_features], conv_cache, grads)  # the label's part dropped


def encoder_needs_dh(config: ModelConfig) -> bool:
    """Whether the heads' input h has layers below it to send a gradient to (not when h = x)."""
    return bool(config.hidden) or config.arch == "conv"


def decoder_forward(params, z: np.ndarray, config: ModelConfig):
    """logits = MLP_dec(z) W_out + b_out (or the transposed convolutions).  z (N, K) -> (N, D).

    Returns (logits, cache); z is [z, one_hot(y)] (N, K + C) for a conditional model.
    """
    h, mlp_caches = mlp_forward(params, "dec", z, len(config.hidden), config.activation)  # (N, H)
    if config.arch == "conv":
        logits, out_cache = conv_decoder_forward(params, h, config)
    else:
        logits, out_cache = linear_forward(h, params["dec.out.W"], params["dec.out.b"])  # (N, D)
    return logits, (mlp_caches, out_cache)


def decoder_backward(dlogits: np.ndarray, cache, grads, config: ModelConfig) -> np.ndarray:
    """Every decoder gradient into ``grads``; returns dz (N, K) (or d[z, one_hot(y)])."""
    mlp_caches, out_cache = cache
    if config.arch == "conv":
        dh = conv_decoder_backward(dlogits, out_cache, grads)
    else:
        dh, _, _ = linear_backward(dlogits, out_cache, out=(grads["dec.out.W"], grads["dec.out.b"]))
    return mlp_backward(dh, mlp_caches, grads, "dec", activation=config.activation)


def encoder_shapes(config: ModelConfig) -> tuple[dict[str, tuple[int, ...]], int]:
    """(the encoder's parameter shapes up to the heads, the width the heads read)."""
    conv = config.arch == "conv"
    n_inputs = (feature_size(config) if conv else config.input_dim) + config.classes
    convolutions = conv_encoder_shapes(config) if conv else {}
    shapes = {**convolutions, **mlp_shapes("enc", (n_inputs, *config.hidden))}
    return shapes, config.hidden[-1] if config.hidden else n_inputs


def decoder_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """dec.0 ... (the encoder's widths reversed), then dec.out: last width -> D.

    The decoder reads z (K,), or [z, one_hot(y)] (K + C,) when the model is conditional;
    with arch='conv' the transposed convolutions replace dec.out (``conv_decoder_shapes``).
    """
    sizes = (config.latent + config.classes, *reversed(config.hidden))
    out = (conv_decoder_shapes(config, sizes[-1]) if config.arch == "conv"
           else linear_shapes("dec.out", sizes[-1], config.input_dim))
    return {**mlp_shapes("dec", sizes), **out}
