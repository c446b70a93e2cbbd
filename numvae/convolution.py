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

Read in this order: im2col, col2im, the two cores, the four forward/backward functions;
the bookkeeping (output shapes, multiply-add counts, argument checks) comes last.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .plumbing.checks import check_ndim

IntPair = int | tuple[int, int]
Gradients = tuple[np.ndarray | None, np.ndarray, np.ndarray]  # (dx, dW, db); dx None if not asked


# --------------------------------------------------------------------------------------
# Patches as columns, and back
# --------------------------------------------------------------------------------------

def im2col(x: np.ndarray, kernel_size: IntPair, stride: IntPair = 1, padding: IntPair = 0) -> np.ndarray:
    """The patches matrix: every KH x KW window of the zero-padded x as one column.

        cols[(c, u, v), (n, i, j)] = x_pad[n, c, i*sh + u, j*sw + v]

    Shapes: x (N, C, H, W) -> cols (C*KH*KW, N*OH*OW), rows ordered (c, u, v) like
    ``W.reshape(C_out, -1)``'s columns, columns ordered (n, i, j);
    OH = floor((H + 2 ph - KH) / sh) + 1, OW likewise.

    Memory: cols holds KH*KW / (sh*sw) times as many numbers as x (2.25x for 3x3,
    stride 2). For the convolutional VAE at batch 128, float32, 3x3 kernels, stride 2,
    padding 1: conv 1 -> 32 on 32x32 gives cols (9, 32768), 1.1 MiB; conv 32 -> 64 on
    16x16 gives (288, 8192), 9.0 MiB. The transposed layers' backward passes build the
    same two matrices from their dout.

    How: ``sliding_window_view`` gives every window as a view of x_pad, with no copy,
    shape (N, C, H+2ph-KH+1, W+2pw-KW+1, KH, KW); [::sh, ::sw] keeps every s-th window;
    copying those windows, transposed, into cols is the one copy.
    """
    x = np.asarray(x)
    check_ndim("x", x, 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    KH, KW = _pair("kernel_size", kernel_size, 1)
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    _check_kernel_fits(x.shape, KH, KW, ph, pw)
    if ph or pw:
        x_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
        x_pad[:, :, ph:ph + H, pw:pw + W] = x
    else:
        x_pad = x
    windows = sliding_window_view(x_pad, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, OH, OW, KH, KW)
    OH, OW = windows.shape[2:4]
    # Channels and kernel offsets first, so that row (c, u, v) meets column (c, u, v) of W_mat.
    # This copy measured 3x faster than the transposed layout, one patch per row, at the
    # VAE's 32 -> 64 layer: its inner loop runs along OW (8 or 16 long), not along KW (3).
    # (Written into a new array rather than by reshape, which in rare layouts would return
    # a view of x: a cache must not change when the caller reuses x's memory.)
    cols = np.empty((C * KH * KW, N * OH * OW), dtype=x.dtype)
    cols.reshape(C, KH, KW, N, OH, OW)[...] = windows.transpose(1, 4, 5, 0, 2, 3)
    return cols


def col2im(cols: np.ndarray, x_shape: tuple[int, int, int, int], kernel_size: IntPair,
           stride: IntPair = 1, padding: IntPair = 0) -> np.ndarray:
    """The adjoint of im2col: add every column back onto the patch it was read from.

        x[n, c, i*sh + u - ph, j*sw + v - pw] += cols[(c, u, v), (n, i, j)]   for all entries,

    dropping what falls on the padding. Where patches overlap (kernel larger than the
    stride) the contributions add up; pixels no patch covers get 0. Being the adjoint
    means  <im2col(x), C> = <x, col2im(C)>  for every x and C, which is exactly what the
    chain rule needs: col2im(dL/dcols) = dL/dx.

    Shapes: cols (C*KH*KW, N*OH*OW) -> x (N, C, H, W) = x_shape, with OH, OW as in
    ``im2col(x)``. Same dtype as cols.

    How, without a loop over kernel offsets: im2col read x_pad.ravel()[index] with
        index[(c, u, v), (n, i, j)] = ((n*C + c)*Hp + i*sh + u)*Wp + j*sw + v,
    Hp, Wp the padded height and width; ``np.bincount(index, weights=cols)`` adds each
    column entry back at the same index. bincount adds in float64 (its only weight
    type), so the sums are as accurate as float64 ones and are then cast to cols' dtype.
    Transient memory: the int64 index and bincount's float64 copy of cols, 2 + 2 times
    cols' float32 size (for the 9 MiB cols of the VAE's 32 <-> 64 layer, 36 MiB more).
    """
    cols = np.asarray(cols)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    N, C, H, W = (int(d) for d in x_shape)
    KH, KW = _pair("kernel_size", kernel_size, 1)
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    _check_kernel_fits((N, C, H, W), KH, KW, ph, pw, name="x_shape")
    Hp, Wp = H + 2 * ph, W + 2 * pw
    OH, OW = (Hp - KH) // sh + 1, (Wp - KW) // sw + 1
    if cols.shape != (C * KH * KW, N * OH * OW):
        raise ValueError(f"cols must have shape (C*KH*KW, N*OH*OW) = {(C * KH * KW, N * OH * OW)} for "
                         f"x_shape {(N, C, H, W)}, got {cols.shape}")
    c, u, v = np.ogrid[:C, :KH, :KW]
    n, i, j = np.ogrid[:N, :OH, :OW]
    offset_in_patch = (c * Hp + u) * Wp + v                          # (C, KH, KW)
    patch_corner = (n * C * Hp + i * sh) * Wp + j * sw                # (N, OH, OW)
    index = offset_in_patch.reshape(-1, 1) + patch_corner.reshape(1, -1)  # (C*KH*KW, N*OH*OW), like cols
    x_pad = np.bincount(index.ravel(), weights=cols.ravel(), minlength=N * C * Hp * Wp)
    return x_pad.reshape(N, C, Hp, Wp)[:, :, ph:ph + H, pw:pw + W].astype(cols.dtype)


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
    x, W, b = _check_arrays(x, W, b, "(C_out, C_in, KH, KW)")
    out_shape = conv2d_output_shape(x.shape, W.shape, stride, padding)
    _check_bias(b, W.shape[0], W.shape)
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
    dW, db = _gradient_arrays(out, W.shape, W.shape[0], G.dtype)
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
    x, W, b = _check_arrays(x, W, b, "(C_in, C_out, KH, KW)")
    out_shape = conv_transpose2d_output_shape(x.shape, W.shape, stride, padding, output_padding)
    _check_bias(b, W.shape[1], W.shape)
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
    dW, db = _gradient_arrays(out, W.shape, W.shape[1], rows.dtype)
    np.matmul(X, D.T, out=dW.reshape(C_in, -1))
    np.sum(dout, axis=(0, 2, 3), out=db)
    dx = _rows_to_nchw(rows, N, H, Wd) if compute_dx else None
    return dx, dW, db


# --------------------------------------------------------------------------------------
# Bookkeeping: output shapes, multiply-adds, argument checks
# --------------------------------------------------------------------------------------

def conv2d_output_shape(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0) -> tuple[int, ...]:
    """(N, C_out, OH, OW) of conv2d, OH = floor((H + 2 ph - KH) / sh) + 1, OW likewise.

    Checks the shapes and the hyperparameters, raising ValueError/TypeError naming the
    argument, what was expected and what was received.
    """
    N, C_in, H, W = _check_shape("x", x_shape, "(N, C_in, H, W)")
    C_out, C_w, KH, KW = _check_shape("W", W_shape, "(C_out, C_in, KH, KW)")
    if C_w != C_in:
        raise ValueError(f"W expects {C_w} input channels (W shape {tuple(W_shape)}) "
                         f"but x has {C_in} (x shape {tuple(x_shape)})")
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    _check_kernel_fits((N, C_in, H, W), KH, KW, ph, pw)
    return N, C_out, (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def conv_transpose2d_output_shape(x_shape, W_shape, stride: IntPair = 1, padding: IntPair = 0,
                                  output_padding: IntPair = 0) -> tuple[int, ...]:
    """(N, C_out, OH, OW) of conv_transpose2d, OH = (H - 1) sh - 2 ph + KH + output_padding_h.

    Checks the shapes and the hyperparameters (output_padding must be smaller than the
    stride, and the output must not be empty), raising ValueError/TypeError naming the
    argument, what was expected and what was received.
    """
    N, C_in, H, W = _check_shape("x", x_shape, "(N, C_in, H, W)")
    C_w, C_out, KH, KW = _check_shape("W", W_shape, "(C_in, C_out, KH, KW)")
    if C_w != C_in:
        raise ValueError(f"W expects {C_w} input channels (W shape {tuple(W_shape)}, "
                         f"(C_in, C_out, KH, KW)) but x has {C_in} (x shape {tuple(x_shape)})")
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    oph, opw = _pair("output_padding", output_padding, 0)
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


def _pair(name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (rows, columns), each >= minimum, as a pair."""
    what = "positive" if minimum == 1 else "non-negative"
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values):
        raise TypeError(f"{name} must be a {what} int or a pair of them (rows, columns), got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{name} must be {what} (>= {minimum}), got {value!r}")
    return int(values[0]), int(values[1])


def _check_shape(name: str, shape, hint: str) -> tuple[int, int, int, int]:
    """A 4-D shape as ints, or ValueError naming ``name``."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must have shape {hint}, got shape {shape}")
    return shape


def _check_kernel_fits(x_shape, KH: int, KW: int, ph: int, pw: int, name: str = "x") -> None:
    """ValueError unless the KH x KW kernel fits in the zero-padded H x W input."""
    H, W = x_shape[2], x_shape[3]
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"the kernel ({KH}, {KW}) is larger than the padded input "
                         f"(H + 2*padding, W + 2*padding) = {(H + 2 * ph, W + 2 * pw)} "
                         f"({name} shape {tuple(x_shape)}, padding {(ph, pw)})")


def _check_arrays(x, W, b, W_hint: str):
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


def _check_bias(b: np.ndarray, C_out: int, W_shape) -> None:
    if b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},) to match W {tuple(W_shape)}, got {b.shape}")


def _gradient_arrays(out, W_shape, n_bias: int, dtype):
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
