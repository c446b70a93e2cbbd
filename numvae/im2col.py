"""Patches as columns, and back: im2col and its adjoint col2im.

A convolution's output pixel is one filter times one patch of the input. im2col ("image
to columns") copies every patch the kernel sees, with zero padding p and stride s, into
one column of a matrix, so that a whole convolution layer is one matrix product
(``convolution.py``); col2im adds columns back onto the pixels they were read from, which
is what the chain rule needs to send a gradient from the patches to the image:

    cols[(c, u, v), (n, i, j)] = x_pad[n, c, i*s + u, j*s + v]          (im2col)
    x[n, c, i*s + u - p, j*s + v - p] += cols[(c, u, v), (n, i, j)]    (col2im)

Shapes: x (N, C, H, W) <-> cols (C*KH*KW, N*OH*OW), OH = floor((H + 2p - KH) / s) + 1.
``stride`` and ``padding`` are an int (both axes) or a pair (rows, columns).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .plumbing.checks import check_ndim

IntPair = int | tuple[int, int]


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
    KH, KW = int_pair("kernel_size", kernel_size, 1)
    (sh, sw), (ph, pw) = int_pair("stride", stride, 1), int_pair("padding", padding, 0)
    check_kernel_fits(x.shape, KH, KW, ph, pw)
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
    KH, KW = int_pair("kernel_size", kernel_size, 1)
    (sh, sw), (ph, pw) = int_pair("stride", stride, 1), int_pair("padding", padding, 0)
    check_kernel_fits((N, C, H, W), KH, KW, ph, pw, name="x_shape")
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


def int_pair(name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (rows, columns), each >= minimum, as a pair."""
    what = "positive" if minimum == 1 else "non-negative"
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values):
        raise TypeError(f"{name} must be a {what} int or a pair of them (rows, columns), got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{name} must be {what} (>= {minimum}), got {value!r}")
    return int(values[0]), int(values[1])


def check_kernel_fits(x_shape, KH: int, KW: int, ph: int, pw: int, name: str = "x") -> None:
    """ValueError unless the KH x KW kernel fits in the zero-padded H x W input."""
    H, W = x_shape[2], x_shape[3]
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"the kernel ({KH}, {KW}) is larger than the padded input "
                         f"(H + 2*padding, W + 2*padding) = {(H + 2 * ph, W + 2 * pw)} "
                         f"({name} shape {tuple(x_shape)}, padding {(ph, pw)})")
