"""The lecture's convolutional encoder and decoder for H x W images (32 x 32 for MNIST).

The lecture's implementation works on images, not vectors. With C1, C2 channels
(32 and 64 by default, ``ModelConfig.conv_channels``) and 3 x 3 kernels of stride 2 and
padding 1, each convolution halves the image's side:

    encoder   x (N, 1, H, W) -> conv C1, ReLU -> (N, C1, H/2, W/2)
                             -> conv C2, ReLU -> (N, C2, H/4, W/4) -> flatten (N, F)
              then the MLP layers and the heads of vae.py      F = C2 * H/4 * W/4
    decoder   the MLP layers of vae.py, then  dense to F, ReLU -> (N, C2, H/4, W/4)
              -> transposed conv C1, ReLU -> (N, C1, H/2, W/2)
              -> transposed conv 1       -> logits (N, 1, H, W) -> flatten (N, D)

The transposed convolutions use output_padding 1 so that each one exactly doubles the
side (they are the convolutions' input-gradients run forward; see ``convolution.py``).
Images arrive flattened row by row, (N, D) with D = H * W, as everywhere in numvae: the
first step reshapes them, the last flattens the logits back.

Parameters: enc.conv0, enc.conv1 (conv weights (C_out, C_in, 3, 3) and biases),
dec.fc (the dense layer to F), dec.deconv0, dec.deconv1 (transposed-conv weights
(C_in, C_out, 3, 3) and biases), besides the MLP layers and heads named in vae.py.
"""

from __future__ import annotations

import numpy as np

from .convolution import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from .layers import linear_backward, linear_forward, relu_backward, relu_forward
from .mlp import linear_shapes

KERNEL, STRIDE, PADDING, OUTPUT_PADDING = 3, 2, 1, 1


def feature_size(config) -> int:
    """F = C2 * H/4 * W/4, the length of the flattened encoder features."""
    (h, w), c2 = config.image_shape, config.conv_channels[1]
    return c2 * (h // 4) * (w // 4)


def conv_encoder_shapes(config) -> dict[str, tuple[int, ...]]:
    """enc.conv0: 1 -> C1 channels, enc.conv1: C1 -> C2, 3 x 3 kernels."""
    c1, c2 = config.conv_channels
    return {"enc.conv0.W": (c1, 1, KERNEL, KERNEL), "enc.conv0.b": (c1,),
            "enc.conv1.W": (c2, c1, KERNEL, KERNEL), "enc.conv1.b": (c2,)}


def conv_decoder_shapes(config, fan_in: int) -> dict[str, tuple[int, ...]]:
    """dec.fc: fan_in -> F, dec.deconv0: C2 -> C1 channels, dec.deconv1: C1 -> 1."""
    c1, c2 = config.conv_channels
    return {**linear_shapes("dec.fc", fan_in, feature_size(config)),
            "dec.deconv0.W": (c2, c1, KERNEL, KERNEL), "dec.deconv0.b": (c1,),
            "dec.deconv1.W": (c1, 1, KERNEL, KERNEL), "dec.deconv1.b": (1,)}


def conv_encoder_forward(params, x: np.ndarray, config):
    """x (N, D) -> features (N, F) through two stride-2 convolutions; returns (features, cache)."""
    h, w = config.image_shape
    images = x.reshape(x.shape[0], 1, h, w)  # (N, 1, H, W)
    a0, conv0 = conv2d_forward(images, params["enc.conv0.W"], params["enc.conv0.b"], STRIDE, PADDING)
    h0, relu0 = relu_forward(a0)  # (N, C1, H/2, W/2)
    a1, conv1 = conv2d_forward(h0, params["enc.conv1.W"], params["enc.conv1.b"], STRIDE, PADDING)
    h1, relu1 = relu_forward(a1)  # (N, C2, H/4, W/4)
    return h1.reshape(x.shape[0], -1), (conv0, relu0, conv1, relu1, h1.shape)


def conv_encoder_backward(dfeatures: np.ndarray, cache, grads) -> None:
    """Both convolutions' gradients into ``grads`` (none for the images themselves)."""
    conv0, relu0, conv1, relu1, shape = cache
    da1 = relu_backward(dfeatures.reshape(shape), relu1)
    dh0, _, _ = conv2d_backward(da1, conv1, out=(grads["enc.conv1.W"], grads["enc.conv1.b"]))
    da0 = relu_backward(dh0, relu0)
    conv2d_backward(da0, conv0, compute_dx=False, out=(grads["enc.conv0.W"], grads["enc.conv0.b"]))


def conv_decoder_forward(params, h: np.ndarray, config):
    """h (N, H_last) -> logits (N, D): dense to F, then two stride-2 transposed convolutions."""
    c2 = config.conv_channels[1]
    rows, cols = config.image_shape
    a, fc = linear_forward(h, params["dec.fc.W"], params["dec.fc.b"])  # (N, F)
    g, relu_fc = relu_forward(a)
    g = g.reshape(h.shape[0], c2, rows // 4, cols // 4)  # (N, C2, H/4, W/4)
    a0, deconv0 = conv_transpose2d_forward(g, params["dec.deconv0.W"], params["dec.deconv0.b"],
                                           STRIDE, PADDING, OUTPUT_PADDING)
    g0, relu0 = relu_forward(a0)  # (N, C1, H/2, W/2)
    logits, deconv1 = conv_transpose2d_forward(g0, params["dec.deconv1.W"], params["dec.deconv1.b"],
                                               STRIDE, PADDING, OUTPUT_PADDING)  # (N, 1, H, W)
    return logits.reshape(h.shape[0], -1), (fc, relu_fc, deconv0, relu0, deconv1, logits.shape)


def conv_decoder_backward(dlogits: np.ndarray, cache, grads) -> np.ndarray:
    """Every gradient of ``conv_decoder_forward`` into ``grads``; returns dh (N, H_last)."""
    fc, relu_fc, deconv0, relu0, deconv1, shape = cache
    dg0, _, _ = conv_transpose2d_backward(dlogits.reshape(shape), deconv1,
                                          out=(grads["dec.deconv1.W"], grads["dec.deconv1.b"]))
    da0 = relu_backward(dg0, relu0)
    dg, _, _ = conv_transpose2d_backward(da0, deconv0, out=(grads["dec.deconv0.W"], grads["dec.deconv0.b"]))
    da = relu_backward(dg.reshape(dg.shape[0], -1), relu_fc)
    dh, _, _ = linear_backward(da, fc, out=(grads["dec.fc.W"], grads["dec.fc.b"]))
    return dh
