"""The convolutions' bookkeeping: output shapes, multiply-add counts, argument checks.

The formulas a student needs to size a network (PyTorch's, for NCHW):

    conv2d            OH = floor((H + 2 p - KH) / s) + 1
    conv_transpose2d  OH = (H - 1) s - 2 p + KH + output_padding

and the work each layer does, in multiply-adds, from which the float-operation floor of
a convolutional model follows. The checks name the argument, what was expected and what
was received, before any work is done.
"""

from __future__ import annotations

import numpy as np

from .im2col import IntPair, check_kernel_fits, int_pair
from .plumbing.checks import check_ndim


def conv2d_output_shape(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0) -> tuple[int, ...]:
    """(N, C_out, OH, OW) of conv2d, OH = floor((H + 2 ph - KH) / sh) + 1, OW likewise.

    Checks the shapes and the hyperparameters, raising ValueError/TypeError naming the
    argument, what was expected and what was received.
    """
    N, C_in, H, W = check_shape4("x", x_shape, "(N, C_in, H, W)")
    C_out, C_w, KH, KW = check_shape4("W", W_shape, "(C_out, C_in, KH, KW)")
    if C_w != C_in:
        raise ValueError(f"W expects {C_w} input channels (W shape {tuple(W_shape)}) "
                         f"but x has {C_in} (x shape {tuple(x_shape)})")
    (sh, sw), (ph, pw) = int_pair("stride", stride, 1), int_pair("padding", padding, 0)
    check_kernel_fits((N, C_in, H, W), KH, KW, ph, pw)
    return N, C_out, (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def conv_transpose2d_output_shape(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0,
                                  output_padding: IntPair = 0) -> tuple[int, ...]:
    """(N, C_out, OH, OW) of conv_transpose2d, OH = (H - 1) sh - 2 ph + KH + output_padding_h.

    Checks the shapes and the hyperparameters (output_padding must be smaller than the
    stride, and the output must not be empty), raising ValueError/TypeError naming the
    argument, what was expected and what was received.
    """
    N, C_in, H, W = check_shape4("x", x_shape, "(N, C_in, H, W)")
    C_w, C_out, KH, KW = check_shape4("W", W_shape, "(C_in, C_out, KH, KW)")
    if C_w != C_in:
        raise ValueError(f"W expects {C_w} input channels (W shape {tuple(W_shape)}, "
                         f"(C_in, C_out, KH, KW)) but x has {C_in} (x shape {tuple(x_shape)})")
    (sh, sw), (ph, pw) = int_pair("stride", stride, 1), int_pair("padding", padding, 0)
    oph, opw = int_pair("output_padding", output_padding, 0)
    if oph >= sh or opw >= sw:
        raise ValueError(f"output_padding must be smaller than stride in each axis, "
                         f"got output_padding {(oph, opw)} with stride {(sh, sw)}")
    OH, OW = (H - 1) * sh - 2 * ph + KH + oph, (W - 1) * sw - 2 * pw + KW + opw
    if OH < 1 or OW < 1:
        raise ValueError(f"padding {(ph, pw)} leaves an empty output: (H - 1)*stride - 2*padding + K "
                         f"+ output_padding = {(OH, OW)} for x {tuple(x_shape)} and W {tuple(W_shape)}")
    return N, C_out, OH, OW


def conv2d_multiply_adds(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0) -> int:
    """Multiply-adds of one of conv2d's matrix products: N*OH*OW * C_out * C_in*KH*KW.

    The forward (W_mat @ cols), dW (G @ cols^T) and dx (W_mat^T @ G) each take exactly
    this many, none of them on a padding zero inserted by the method (col2im multiplies
    no zeros); a training step costs 3 times this, 2 times with ``compute_dx=False``.
    FLOPs are twice the multiply-adds.
    """
    N, C_out, OH, OW = conv2d_output_shape(x_shape, W_shape, stride, padding)
    _, C_in, KH, KW = W_shape
    return N * OH * OW * C_out * C_in * KH * KW


def conv_transpose2d_multiply_adds(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0,
                                   output_padding: IntPair = 0) -> int:
    """Multiply-adds of one of conv_transpose2d's matrix products: N*H*W * C_in * C_out*KH*KW.

    The forward (W_mat^T @ X), dx (W_mat @ D) and dW (X @ D^T) each take exactly this
    many (H, W: the input's size); a training step costs 3 times this.
    """
    conv_transpose2d_output_shape(x_shape, W_shape, stride, padding, output_padding)
    N, C_in, H, W = x_shape
    _, C_out, KH, KW = W_shape
    return N * H * W * C_in * C_out * KH * KW


def check_shape4(name: str, shape, hint: str) -> tuple[int, int, int, int]:
    """A 4-D shape as ints, or ValueError naming ``name``."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must have shape {hint}, got shape {shape}")
    return shape


def check_conv_arrays(x, W, b, W_hint: str):
    """x, W, b as float arrays of one dtype (nothing converted), x and W 4-D, b 1-D."""
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    for name, arr in (("x", x), ("W", W), ("b", b)):
        if arr.dtype.kind != "f":
            raise TypeError(f"{name} must be a floating-point array (float32 or float64), "
                            f"got dtype {arr.dtype}")
    if not x.dtype == W.dtype == b.dtype:
        raise TypeError(f"x, W and b must have the same dtype (it is kept), "
                        f"got {x.dtype}, {W.dtype}, {b.dtype}")
    check_ndim("x", x, 4, "(N, C_in, H, W)")
    check_ndim("W", W, 4, W_hint)
    return x, W, b


def check_conv_bias(b: np.ndarray, C_out: int, W_shape) -> None:
    if b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},) to match W {tuple(W_shape)}, got {b.shape}")


def gradient_arrays(out, W_shape, n_bias: int, dtype):
    """(dW, db): new arrays, or the pair ``out`` after checking it can be written into."""
    if out is None:
        return np.empty(W_shape, dtype=dtype), np.empty(n_bias, dtype=dtype)
    dW, db = out
    if dW.shape != tuple(W_shape) or not dW.flags.c_contiguous:
        raise ValueError(f"out[0] (dW) must be a contiguous array of W's shape {tuple(W_shape)}, "
                         f"got shape {dW.shape}{'' if dW.flags.c_contiguous else ', not contiguous'}")
    if db.shape != (n_bias,):
        raise ValueError(f"out[1] (db) must have shape ({n_bias},), got {db.shape}")
    return dW, db
