"""Convolution as one matrix product over patches: conv2d and its transpose, by hand.

What deep learning calls a 2-D "convolution" is a cross-correlation: the kernel slides
over the image *without* being flipped (a mathematician's convolution flips it first).
With zero padding p and stride s, for one output pixel:

    out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*s + u, j*s + v]

im2col ("image to columns") copies every patch the kernel sees into one column of a
matrix; each output pixel is then one filter (a row of W) times one patch (a column),
and the whole layer is a single matrix product:

    out = W_mat @ cols,     W_mat = W.reshape(C_out, C_in*KH*KW),  cols = im2col(x)

The transposed convolution is the convolution's input-gradient run forward. The
gradient of the product above with respect to the patches is W_mat^T @ dout, and
col2im, the adjoint of im2col, adds every patch's gradient back onto the pixels it was
read from. That pair of steps, col2im(W_mat^T @ g), is both ``conv2d_backward``'s dx and
``conv_transpose2d_forward``; and the transposed convolution's own backward is an
ordinary convolution (im2col and one product). So this file has exactly two cores:
``_conv`` serves conv2d's forward and the transposed convolution's backward, and
``_conv_transpose`` serves conv2d's backward and the transposed convolution's forward.

Conventions (those of PyTorch):
    x     (N, C_in, H, W)          NCHW: examples, channels, rows, columns
    conv2d W (C_out, C_in, KH, KW),  out (N, C_out, OH, OW),
          OH = floor((H + 2 p - KH) / s) + 1                 (likewise OW)
    conv_transpose2d W (C_in, C_out, KH, KW),  out (N, C_out, OH, OW),
          OH = (H - 1) s - 2 p + KH + output_padding         (likewise OW)
``stride``, ``padding`` and ``output_padding`` are an int (both axes) or a pair
(rows, columns). Every function keeps the dtype it is given (float32 for training,
float64 for gradient checks); x, W and b must share it.

Read ``im2col.py`` first (patches as columns, and back), then here the two cores and the
four forward/backward functions;
the bookkeeping (output shapes, multiply-add counts, argument checks) comes last.
"""

from __future__ import annotations

import numpy as np

from .conv_shapes import (
    check_conv_arrays,
    check_conv_bias,
    conv2d_output_shape,
    conv_transpose2d_output_shape,
    gradient_arrays,
)
from .im2col import IntPair, col2im, im2col

Gradients = tuple[np.ndarray | None, np.ndarray, np.ndarray]  # (dx, dW, db); dx None if not asked


# --------------------------------------------------------------------------------------
# The two cores: a convolution, and its transpose
# --------------------------------------------------------------------------------------

def _conv(x: np.ndarray, W: np.ndarray, stride, padding):
    """Cross-correlate x with W, no bias: im2col and one matrix product.

    Shapes: x (N, C, H, W), W (F, C, KH, KW) -> rows (F, N*OH*OW), cols (C*KH*KW, N*OH*OW).
    The output comes back as rows (one per filter), the layout its gradient needs;
    ``_rows_to_nchw`` turns it into an image batch.
    """
    cols = im2col(x, W.shape[2:], stride, padding)
    return W.reshape(W.shape[0], -1) @ cols, cols


def _conv_transpose(rows: np.ndarray, W: np.ndarray, out_shape, stride, padding) -> np.ndarray:
    """The transpose of ``_conv`` with the same W: one matrix product and col2im.

    Shapes: rows (F, N*OH*OW), W (F, C, KH, KW) -> (N, C, H, W) = out_shape.
    If rows = dL/d(_conv(x, W) rows), this is dL/dx; it is also the transposed
    convolution of the image batch whose rows these are.
    """
    W_mat = W.reshape(W.shape[0], -1)                       # (F, C*KH*KW)
    return col2im(W_mat.T @ rows, out_shape, W.shape[2:], stride, padding)


def _nchw_to_rows(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (C, N*H*W): one row per channel, columns ordered (n, h, w) as im2col's."""
    return a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)


def _rows_to_nchw(rows: np.ndarray, N: int, H: int, W: int, b: np.ndarray | None = None) -> np.ndarray:
    """(C, N*H*W) -> (N, C, H, W), contiguous, adding b (C,) per channel in the same pass."""
    C = rows.shape[0]
    image = rows.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    if b is None:
        return np.ascontiguousarray(image)
    out = np.empty((N, C, H, W), dtype=rows.dtype)
    np.add(image, b.reshape(1, C, 1, 1), out=out)
    return out


# --------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------

def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: IntPair = 1,
                   padding: IntPair = 0) -> tuple[np.ndarray, tuple]:
    """2-D convolution (cross-correlation: the kernel is not flipped), NCHW.

        out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*sh + u, j*sw + v]

    x_pad is x with ``padding`` zeros on every side. As one matrix product over patches:
        out as rows (C_out, N*OH*OW) = W_mat @ im2col(x),   W_mat = W.reshape(C_out, C_in*KH*KW)

    Shapes: x (N, C_in, H, W), W (C_out, C_in, KH, KW), b (C_out,)
            -> out (N, C_out, OH, OW),  OH = floor((H + 2 ph - KH) / sh) + 1, OW likewise.
    Cache: (cols, W, x.shape, out.shape, stride, padding); cols = im2col(x) is kept for
    dW (see ``im2col`` for its size). Multiply-adds: ``conv2d_multiply_adds``.
    """
    x, W, b = check_conv_arrays(x, W, b, "(C_out, C_in, KH, KW)")
    out_shape = conv2d_output_shape(x.shape, W.shape, stride, padding)
    check_conv_bias(b, W.shape[0], W.shape)
    rows, cols = _conv(x, W, stride, padding)                # rows (C_out, N*OH*OW)
    out = _rows_to_nchw(rows, out_shape[0], out_shape[2], out_shape[3], b)
    return out, (cols, W, x.shape, out_shape, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: tuple, compute_dx: bool = True,
                    out: tuple[np.ndarray, np.ndarray] | None = None) -> Gradients:
    """Gradients of conv2d. With G = dout as rows (C_out, N*OH*OW) and cols = im2col(x):

        dL/dW = G @ cols^T                reshaped to (C_out, C_in, KH, KW)
        dL/db = sum over n, i, j of dout  (C_out,)
        dL/dx = col2im(W_mat^T @ G)       (N, C_in, H, W)

    The last line is the transposed convolution of dout: conv2d_backward's dx equals
    ``conv_transpose2d_forward(dout, W, 0, stride, padding, output_padding=r)`` with
    r = (H + 2p - KH) mod s, the rows of x the forward's windows never reached (they
    get gradient 0). Equivalently, the textbook picture: insert s-1 zeros between the
    pixels of dout, pad by K-1-p, and cross-correlate with W flipped in both spatial
    axes and with its two channel axes swapped.

    Why col2im and not that picture: measured with ``python benchmarks/bench_conv.py
    --alternatives`` (batch 128, float32, 2 cores, the decoder's two shapes). Zero
    insertion builds a patches matrix s^2 = 4 times larger than col2im's input and
    multiplies its zeros: 72 MiB instead of 9 MiB for the 64 -> 32 channel layer
    (8x8 -> 16x16), 144 MiB instead of 1.1 MiB for the 32 -> 1 layer (16x16 -> 32x32),
    and 1.3x and 11-13x col2im's time. A third way, "sub-pixel" (split the kernel into
    s^2 stride-1 kernels, one product for all of them, then interleave the s^2 output
    images pixel by pixel), was 1.7x faster than col2im on the 64 -> 32 layer (25 ms
    against 42) but 2.2-2.7x slower on the 32 -> 1 layer, whose 32-channel input it
    copies 4 times over. col2im was kept: it is im2col run backwards, which is what this
    file teaches, and the only one of the three that multiplies no zeros.

    ``compute_dx=False`` skips dL/dx (returned as None): the first layer never needs it,
    and it is a matrix product plus a col2im. ``out`` may be a pair (dW, db) of arrays to
    write the weight gradients into (as in ``linear_backward``). Returns (dx, dW, db).
    """
    cols, W, x_shape, out_shape, stride, padding = cache
    dout = np.asarray(dout)
    if dout.shape != out_shape:
        raise ValueError(f"dout must have the conv2d output's shape {out_shape}, got {dout.shape}")
    G = _nchw_to_rows(dout)                                  # (C_out, N*OH*OW)
    dW, db = gradient_arrays(out, W.shape, W.shape[0], G.dtype)
    np.matmul(G, cols.T, out=dW.reshape(W.shape[0], -1))
    np.sum(G, axis=1, out=db)
    dx = _conv_transpose(G, W, x_shape, stride, padding) if compute_dx else None
    return dx, dW, db


# --------------------------------------------------------------------------------------
# conv_transpose2d
# --------------------------------------------------------------------------------------

def conv_transpose2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: IntPair = 1,
                             padding: IntPair = 0, output_padding: IntPair = 0) -> tuple[np.ndarray, tuple]:
    """Transposed 2-D convolution, NCHW: the input-gradient of conv2d, run forward.

    Every input pixel adds a copy of the kernel, scaled by the pixel, onto the output;
    the copies sit s pixels apart and add up where they overlap; then ``padding`` rows
    and columns are cut from every side:

        out[n, o, i*sh + u - ph, j*sw + v - pw] += x[n, c, i, j] * W[c, o, u, v],   out += b[o]

    As matrices, with X = x as rows (C_in, N*H*W) and W_mat = W.reshape(C_in, C_out*KH*KW):
        out = col2im(W_mat^T @ X) + b

    which is conv2d_backward's dx with dout = x: this layer is the transpose (adjoint)
    of ``conv2d_forward`` with the same W, and maps its OH x OW outputs back to H x W.

    A stride-s conv2d maps s input sizes to the same output size; ``output_padding``
    (< stride) says which one is meant, by keeping that many more rows (columns) at the
    bottom (right): rows that ``padding`` would otherwise have cut or, past the end of
    the spread-out kernels, rows that hold b alone.

    The textbook picture of the same map: insert s-1 zeros between the pixels of x, pad
    by K-1-p (plus output_padding at the bottom and right), and cross-correlate with W
    flipped in both spatial axes and its channel axes swapped (why col2im instead: see
    ``conv2d_backward``).

    Shapes: x (N, C_in, H, W), W (C_in, C_out, KH, KW), b (C_out,)
            -> out (N, C_out, OH, OW),  OH = (H - 1) sh - 2 ph + KH + output_padding_h, OW likewise.
    Cache: (X, W, x.shape, out.shape, stride, padding). Memory: see ``col2im``.
    Multiply-adds: ``conv_transpose2d_multiply_adds``.
    """
    x, W, b = check_conv_arrays(x, W, b, "(C_in, C_out, KH, KW)")
    out_shape = conv_transpose2d_output_shape(x.shape, W.shape, stride, padding, output_padding)
    check_conv_bias(b, W.shape[1], W.shape)
    X = _nchw_to_rows(x)                                     # (C_in, N*H*W)
    out = _conv_transpose(X, W, out_shape, stride, padding)  # (N, C_out, OH, OW)
    out += b.reshape(1, -1, 1, 1)
    return out, (X, W, x.shape, out_shape, stride, padding)


def conv_transpose2d_backward(dout: np.ndarray, cache: tuple, compute_dx: bool = True,
                              out: tuple[np.ndarray, np.ndarray] | None = None) -> Gradients:
    """Gradients of the transposed convolution: ordinary convolutions of dout.

    With D = im2col(dout) (C_out*KH*KW, N*H*W), at the forward's stride and padding:
        dL/dx = W_mat @ D  = conv2d_forward(dout, W, 0, stride, padding)   (N, C_in, H, W)
        dL/dW = X @ D^T    reshaped to (C_in, C_out, KH, KW)
        dL/db = sum over n, i, j of dout                                   (C_out,)
    (the adjoint of col2im is im2col; that of multiplying by W_mat^T is multiplying by
    W_mat). The windows of the padded dout number exactly H x W and miss only its last
    output_padding rows (columns): padding zeros, or output pixels that held b alone,
    which only db sees.

    ``compute_dx=False`` skips dL/dx (returned as None); ``out`` may be a pair (dW, db)
    to write the weight gradients into. Returns (dx, dW, db).
    """
    X, W, x_shape, out_shape, stride, padding = cache
    dout = np.asarray(dout)
    if dout.shape != out_shape:
        raise ValueError(f"dout must have the conv_transpose2d output's shape {out_shape}, got {dout.shape}")
    N, C_in, H, Wd = x_shape
    rows, D = _conv(dout, W, stride, padding)                # rows (C_in, N*H*W) = W_mat @ D
    dW, db = gradient_arrays(out, W.shape, W.shape[1], rows.dtype)
    np.matmul(X, D.T, out=dW.reshape(C_in, -1))
    np.sum(dout, axis=(0, 2, 3), out=db)
    dx = _rows_to_nchw(rows, N, H, Wd) if compute_dx else None
    return dx, dW, db
