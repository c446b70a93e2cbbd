"""Exercise 2: the linear layer and the ReLU, forward and backward.

The encoder and the decoder of the VAE are stacks of  h = relu(x W + b). Each layer is a
pair of functions: the forward pass returns its output and a *cache* (whatever the
backward pass will need), and the backward pass takes the upstream gradient
dout = dL/dout of some scalar loss L and that cache, and returns the gradients of L with
respect to the layer's inputs. Nothing is stored anywhere else.

Shapes: N examples, D input features, M outputs.

Check your work:  python -m numvae exercises check . linear_relu
"""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Affine map  out = x W + b  (b is added to every row).

    Shapes: x (N, D), W (D, M), b (M,) -> out (N, M).
    Returns (out, cache); put in the cache what linear_backward needs (x and W).
    """
    raise NotImplementedError("exercise 2 (linear_relu): implement linear_forward")


def linear_backward(dout: np.ndarray, cache):
    """Gradients of L through out = x W + b, given dout = dL/dout (N, M).

    The forward pass, one entry at a time:  out[n, m] = sum_d x[n, d] W[d, m] + b[m].
    The rule: the chain rule summed over every entry of out that an input touches,

        dL/dW[d, m] = sum_n sum_m' dout[n, m'] * d out[n, m'] / d W[d, m]

    and the same for x[n, d] and b[m]. Work out d out[n, m'] / d W[d, m] (it is 0 for most
    entries), then write the sums as matrix products.

    Shapes: dout (N, M) -> dx (N, D), dW (D, M), db (M,): each gradient has the shape of
    the input it belongs to.

    Hints: b is added to every row of out, so every example contributes to db. Do not
    forget the bias.
    """
    raise NotImplementedError("exercise 2 (linear_relu): implement linear_backward")


def relu_forward(x: np.ndarray):
    """Rectified linear unit  out = max(x, 0), elementwise.

    Shapes: x (...) -> out (...). Returns (out, cache).
    """
    raise NotImplementedError("exercise 2 (linear_relu): implement relu_forward")


def relu_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Gradient of L through out = max(x, 0), elementwise, given dout = dL/dout.

    The rule: d max(x, 0) / dx is 1 where x > 0 and 0 where x < 0; at the kink x = 0 take
    0. Then the chain rule, entry by entry.

    Shapes: dout (...) -> dx (...), the shape of x.
    Hint: ``np.where(condition, a, b)``.
    """
    raise NotImplementedError("exercise 2 (linear_relu): implement relu_backward")
