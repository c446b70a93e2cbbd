"""Exercise 14: the 2-D convolution, forward and backward (NCHW, stride, zero padding).

The lecture's convolutional VAE reads 32 x 32 images with convolutions: a small kernel
of weights slides over the image, and each output pixel is the kernel times the window
of the image under it, summed over the window and over the input channels. Shapes are
NCHW, as in PyTorch:

    x   (N, C_in, H, W)            N images of C_in channels, H rows, W columns
    W   (C_out, C_in, KH, KW)      one KH x KW kernel per (output channel, input channel)
    b   (C_out,)                   one bias per output channel
    out (N, C_out, OH, OW)

With ``padding`` p, x_pad is x with p rows (columns) of zeros added on every side; with
``stride`` s the window moves s pixels at a time:

    out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*s + u, j*s + v]

    OH = floor((H + 2 p - KH) / s) + 1,       OW = floor((W + 2 p - KW) / s) + 1

(a window must fit in the padded image entirely: the floor drops the last rows when it
does not). Deep learning's "convolution" does not flip the kernel: u and v count forward
in both W and x_pad (a mathematician's convolution, with W[o, c, KH-1-u, KW-1-v], is not
what is asked).

Any way of computing it is fine: loops over the output pixels, or im2col (every window
copied into one column of a matrix, so that the layer is one matrix product; see the
``numvae.im2col`` docstring for the idea). The checks use small sizes, where loops are
fast enough.

What you may use: NumPy. numvae's convolutions, im2col and col2im are the answers: while
grading, calling them fails the check.

Check your work:  python -m numvae exercises check . conv2d
"""

from __future__ import annotations

import numpy as np


def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0):
    """2-D convolution (cross-correlation, the kernel not flipped), NCHW.

        out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*stride + u, j*stride + v]

    Shapes: x (N, C_in, H, W), W (C_out, C_in, KH, KW), b (C_out,); stride >= 1 and
    padding >= 0 are ints (the same for rows and columns)
    -> out (N, C_out, OH, OW), OH = floor((H + 2 padding - KH) / stride) + 1, OW likewise.
    Returns (out, cache); put in the cache what conv2d_backward needs (x or its windows,
    W, stride, padding).
    """
    raise NotImplementedError("exercise 14 (conv2d): implement conv2d_forward")


def conv2d_backward(dout: np.ndarray, cache):
    """Gradients of L through conv2d_forward, given dout = dL/dout (N, C_out, OH, OW).

    The forward pass, one output entry at a time:
        out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*stride + u, j*stride + v]
    The rule: the chain rule summed over every entry of out that an input touches,

        dL/dW[o, c, u, v] = sum_{n, o', i, j} dout[n, o', i, j] * d out[n, o', i, j] / d W[o, c, u, v]

    and the same for every x[n, c, h, w] and b[o]. A pixel of x lies in several windows
    when the kernel is larger than the stride: each window it lies in adds its term.
    The padding's zeros are not inputs: a gradient that lands on them goes nowhere.

    Shapes: dout (N, C_out, OH, OW) -> dx (N, C_in, H, W), dW (C_out, C_in, KH, KW),
    db (C_out,): each gradient has the shape of the input it belongs to.
    """
    raise NotImplementedError("exercise 14 (conv2d): implement conv2d_backward")
