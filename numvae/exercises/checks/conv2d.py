"""Checks for exercise 14: 2-D convolution (NCHW, stride, zero padding), forward and backward.

References: ``numvae.conv2d_forward`` and ``numvae.conv2d_backward`` on the grader's
inputs, for several shapes, strides and paddings: kernels that are not square, images
that are not square, more output channels than input channels, strides whose windows
overlap (3 x 3 at stride 2) or miss the last rows of the image (the floor in the output
size). The backward pass is called with the cache of the student's own forward pass and
is also compared with finite differences of that forward pass, on sizes small enough for
plain Python loops.

Classic mistakes, computed here: the flipped kernel (a mathematician's convolution), the
bias left out, windows that move by 1 instead of the stride, wrong output sizes (padding
or stride ignored, a ceiling for the floor), overlapping windows whose gradients
overwrite each other instead of adding up, dW with its channel axes swapped, db not
summed over every example and pixel.
"""

from __future__ import annotations

import math

import numpy as np

from ...convolution import conv2d_backward, conv2d_forward
from ..compare import as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
PLAIN = "conv2d_forward, stride 1 and no padding: out = b + sum over (c, u, v) of W * the window"
PADDED = "conv2d_forward with zero padding"
STRIDED = "conv2d_forward with a stride (and padding)"
FORWARDS = (PLAIN, PADDED, STRIDED)
# (x shape, W shape, stride, padding) of each check; the backward checks use all of them
CASES = {
    PLAIN: [((2, 3, 6, 7), (4, 3, 3, 2), 1, 0)],
    PADDED: [((2, 2, 5, 6), (3, 2, 3, 3), 1, 1), ((1, 2, 4, 5), (2, 2, 2, 3), 1, 2)],
    STRIDED: [((2, 2, 7, 8), (3, 2, 3, 3), 2, 1), ((1, 2, 8, 7), (2, 2, 2, 3), 3, 0)],
}
BACKWARD_CASES = [((2, 2, 5, 6), (2, 2, 3, 3), 1, 1), ((2, 2, 7, 8), (3, 2, 3, 3), 2, 1),
                  ((1, 3, 8, 7), (2, 3, 2, 3), 3, 0)]
NUMERIC_CASE = ((2, 2, 5, 4), (2, 2, 3, 3), 2, 1)  # 76 numbers to perturb: cheap even for loops
FLIPPED = ("the kernel is flipped: deep learning's convolution is a cross-correlation, "
           "out[i, j] = sum W[u, v] x_pad[i*s + u, j*s + v], with u, v counting forward")


def _case(rng, case):
    x_shape, w_shape, stride, padding = case
    x, W = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    return x, W, rng.standard_normal(w_shape[0]), stride, padding


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _shape_hint(received, x_shape, w_shape, stride, padding) -> str:
    """Why an output has the wrong shape, when a known wrong formula gives the shape received."""
    (n, _, h, w), (c_out, _, kh, kw) = x_shape, w_shape
    right = (n, c_out, _out_size(h, kh, stride, padding), _out_size(w, kw, stride, padding))
    formulas = {
        "the padding was ignored": ((h - kh) // stride + 1, (w - kw) // stride + 1),
        "the stride was ignored (windows every pixel)": (h + 2 * padding - kh + 1, w + 2 * padding - kw + 1),
        "a ceiling where the formula has a floor: a window must fit in the padded image entirely":
            (math.ceil((h + 2 * padding - kh) / stride) + 1, math.ceil((w + 2 * padding - kw) / stride) + 1),
        "padding was added on one side only":
            ((h + padding - kh) // stride + 1, (w + padding - kw) // stride + 1),
        "the kernel's rows and columns are swapped: W is (C_out, C_in, KH, KW)":
            (_out_size(h, kw, stride, padding), _out_size(w, kh, stride, padding)),
    }
    text = (f"out is (N, C_out, OH, OW) = {right}: OH = floor((H + 2 padding - KH) / stride) + 1, "
            "OW likewise")
    shape = received.shape if isinstance(received, np.ndarray) else ()
    if len(shape) == 4 and shape[:2] == right[:2]:
        named = [why for why, size in formulas.items() if size == shape[2:] and size != right[2:]]
        if named:
            text = f"{named[0]}; {text}"
    elif shape == (right[0], right[2], right[3], right[1]):
        text = f"the channels came last (NHWC); numvae's images are NCHW, the channels second; {text}"
    return text


def _forward(student, x, W, b, stride, padding):
    return unpack(call(need(student, "conv2d_forward"), x, W, b, stride, padding), ("out", "cache"),
                  f"conv2d_forward(x, W, b, stride={stride}, padding={padding})")


def _forward_mistakes(x, W, b, stride, padding) -> dict:
    expected, _ = conv2d_forward(x, W, b, stride, padding)
    every_pixel, _ = conv2d_forward(x, W, b, 1, padding)
    return {
        FLIPPED: conv2d_forward(x, W[:, :, ::-1, ::-1].copy(), b, stride, padding)[0],
        "the bias b is missing: out[n, o] = b[o] + ...": expected - b[None, :, None, None],
        "the windows move by 1, not by the stride: output (i, j) reads x_pad from (i * stride, j * stride)":
            every_pixel[:, :, :expected.shape[2], :expected.shape[3]],
    }


def _check_forward(student, rng, check_name):
    for case in CASES[check_name]:
        x, W, b, stride, padding = _case(rng, case)
        out, _ = _forward(student, x, W, b, stride, padding)
        expected, _ = conv2d_forward(x, W, b, stride, padding)
        assert_close(f"out (x {x.shape}, W {W.shape}, stride {stride}, padding {padding})", out, expected,
                     mistakes=_forward_mistakes(x, W, b, stride, padding),
                     shape_hint=_shape_hint(out, x.shape, W.shape, stride, padding))


@CHECKS(PLAIN)
def forward_plain(student, rng):
    _check_forward(student, rng, PLAIN)


@CHECKS(PADDED)
def forward_padded(student, rng):
    _check_forward(student, rng, PADDED)


@CHECKS(STRIDED)
def forward_strided(student, rng):
    _check_forward(student, rng, STRIDED)


# ----- the backward pass -----------------------------------------------------------------------------

def _overwritten_dx(dout, W, x_shape, stride, padding, windows_first: bool) -> np.ndarray:
    """dx when each window's gradient is *assigned* to x_pad (=, where += belongs): the last write wins.

    windows_first: the loop runs over the windows (i, j), writing a whole patch each time, as a
    loop over output pixels does; else over the kernel offsets (u, v) with the windows inside,
    as fancy-index assignment of an im2col matrix does (rows (c, u, v), columns (n, i, j)).
    """
    n, c, h, w = x_shape
    _, _, kh, kw = W.shape
    oh, ow = dout.shape[2:]
    patches = np.einsum("noij,ocuv->ncijuv", dout, W)  # each window's gradient (N, C, OH, OW, KH, KW)
    dx_pad = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    if windows_first:
        for i in range(oh):
            for j in range(ow):
                dx_pad[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] = patches[:, :, i, j]
    else:
        for u in range(kh):
            for v in range(kw):
                for i in range(oh):
                    for j in range(ow):
                        dx_pad[:, :, i * stride + u, j * stride + v] = patches[:, :, i, j, u, v]
    return dx_pad[:, :, padding:padding + h, padding:padding + w]


def _backward(student, rng, case):
    """The student's (dx, dW, db) from their own forward's cache, the reference's, and the inputs."""
    x, W, b, stride, padding = _case(rng, case)
    out_shape = conv2d_forward(x, W, b, stride, padding)[0].shape
    dout = rng.standard_normal(out_shape)
    _, cache = _forward(student, x, W, b, stride, padding)
    received = unpack(call(need(student, "conv2d_backward"), dout, cache), ("dx", "dW", "db"),
                      "conv2d_backward(dout, cache)")
    expected = conv2d_backward(dout, conv2d_forward(x, W, b, stride, padding)[1])
    return received, expected, (x, W, b, stride, padding, dout)


def _label(name, x, W, stride, padding):
    return f"{name} (x {x.shape}, W {W.shape}, stride {stride}, padding {padding})"


OVERWRITTEN = ("where windows overlap, their gradients overwrote each other ({}): a pixel that several "
               "windows read gets the sum of their gradients (+=, or np.add.at for an index array)")


@CHECKS("conv2d_backward: dx, the gradient with respect to x")
def backward_dx(student, rng):
    for case in BACKWARD_CASES:
        (dx, _, _), (expected, _, _), (x, W, b, stride, padding, dout) = _backward(student, rng, case)
        flipped = conv2d_forward(x, W[:, :, ::-1, ::-1].copy(), b, stride, padding)[1]
        mistakes = {FLIPPED: conv2d_backward(dout, flipped)[0]}
        if W.shape[2] > stride or W.shape[3] > stride:  # the windows overlap
            mistakes[OVERWRITTEN.format("= in a loop over the windows")] = \
                _overwritten_dx(dout, W, x.shape, stride, padding, windows_first=True)
            mistakes[OVERWRITTEN.format("= with an index array")] = \
                _overwritten_dx(dout, W, x.shape, stride, padding, windows_first=False)
        assert_close(_label("dx", x, W, stride, padding), dx, expected, mistakes=mistakes,
                     shape_hint=f"dx has the shape of x, {x.shape}: cut the padding off again, and keep x's "
                                "size in the cache (rows that no window reaches get gradient 0)")


@CHECKS("conv2d_backward: dW, the gradient with respect to W")
def backward_dW(student, rng):
    for case in BACKWARD_CASES:
        (_, dW, _), (_, expected, _), (x, W, _, stride, padding, _) = _backward(student, rng, case)
        mistakes = {FLIPPED: expected[:, :, ::-1, ::-1],
                    f"you averaged over the batch: W is used by all N = {x.shape[0]} examples, so their "
                    "contributions to dW add up": expected / x.shape[0]}
        if W.shape[0] == W.shape[1]:
            mistakes["dW's channel axes are swapped: dW has W's shape (C_out, C_in, KH, KW), "
                     "dW[o, c] for output channel o and input channel c"] = expected.transpose(1, 0, 2, 3)
        received_shape = tuple(np.shape(dW)) if isinstance(dW, np.ndarray) else None
        hint = f"dW has the shape of W, (C_out, C_in, KH, KW) = {W.shape}"
        if received_shape == (W.shape[1], W.shape[0], *W.shape[2:]):
            hint = "the channel axes are swapped; " + hint
        assert_close(_label("dW", x, W, stride, padding), dW, expected, mistakes=mistakes, shape_hint=hint)


@CHECKS("conv2d_backward: db, the gradient with respect to b")
def backward_db(student, rng):
    for case in BACKWARD_CASES:
        (_, _, db), (_, _, expected), (x, W, _, stride, padding, dout) = _backward(student, rng, case)
        n, c_out, oh, ow = dout.shape
        shapes = {(n, c_out): "summed over the pixels i, j but not over the N examples",
                  (c_out, oh, ow): "summed over the N examples but not over the pixels i, j",
                  (n, c_out, oh, ow): "that is dout itself, one number per output pixel"}
        received_shape = tuple(np.shape(db)) if isinstance(db, np.ndarray) else None
        hint = f"db has the shape of b, (C_out,) = {(c_out,)}: b[o] is added to every pixel of channel o"
        if received_shape in shapes:
            hint = f"{shapes[received_shape]}; {hint} in every example, so sum dout over n, i and j"
        assert_close(_label("db", x, W, stride, padding), db, expected, shape_hint=hint, mistakes={
            f"you averaged dout over the N x OH x OW = {n * oh * ow} output pixels; b[o] is added to each, "
            "so their gradients add up": expected / (n * oh * ow),
        })


@CHECKS("conv2d_backward agrees with finite differences of conv2d_forward", value=False, after=FORWARDS)
def backward_numeric(student, rng):
    x, W, b, stride, padding = _case(rng, NUMERIC_CASE)
    out_shape = conv2d_forward(x, W, b, stride, padding)[0].shape
    dout = rng.standard_normal(out_shape)
    _, cache = _forward(student, x, W, b, stride, padding)
    analytic = unpack(call(need(student, "conv2d_backward"), dout, cache), ("dx", "dW", "db"),
                      "conv2d_backward(dout, cache)")
    forward = need(student, "conv2d_forward")
    inputs = (x, W, b)
    # L = sum(out * dout), whose gradient with respect to out is dout
    for position, (name, grad) in enumerate(zip(("dx", "dW", "db"), analytic, strict=True)):
        def losses(points, position=position):
            calls = [inputs[:position] + (p,) + inputs[position + 1:] + (stride, padding) for p in points]
            outs = forward.map(calls, pick=(0,))
            return [float(np.sum(as_array("out", out, out_shape) * dout)) for out in outs]

        assert_close(f"{name} (your conv2d_backward against finite differences of your conv2d_forward)",
                     grad, finite_differences(losses, inputs[position]))
