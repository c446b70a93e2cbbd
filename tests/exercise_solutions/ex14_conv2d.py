"""Reference solution of exercise 14: conv2d by im2col, written out with NumPy's windows
(numvae's im2col, col2im and conv2d are traps while grading)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x_pad: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Every window of x_pad: (N, C, OH, OW, KH, KW), a view."""
    return sliding_window_view(x_pad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0):
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = _windows(x_pad, W.shape[2], W.shape[3], stride)
    out = np.einsum("ncijuv,ocuv->noij", windows, W) + b[None, :, None, None]
    return out, (x, W, stride, padding)


def conv2d_backward(dout: np.ndarray, cache):
    x, W, stride, padding = cache
    n, c, h, w = x.shape
    _, _, kh, kw = W.shape
    oh, ow = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = _windows(x_pad, kh, kw, stride)
    dW = np.einsum("noij,ncijuv->ocuv", dout, windows)
    db = dout.sum(axis=(0, 2, 3))
    dwindows = np.einsum("noij,ocuv->ncijuv", dout, W)  # each window's gradient
    dx_pad = np.zeros_like(x_pad)
    for u in range(kh):  # every kernel offset: the windows' pixels (u, v) add up where they overlap
        for v in range(kw):
            dx_pad[:, :, u:u + stride * oh:stride, v:v + stride * ow:stride] += dwindows[:, :, :, :, u, v]
    return dx_pad[:, :, padding:padding + h, padding:padding + w], dW, db
