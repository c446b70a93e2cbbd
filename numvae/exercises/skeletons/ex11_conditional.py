"""Exercise 11: the conditional VAE, the label appended to both networks' inputs.

A VAE trained on MNIST draws digits, but which digit comes out is up to chance. The
conditional VAE (Sohn et al. 2015) gives both networks the label y, one of C classes,
as a one-hot vector appended to their inputs:

    encoder   q(z | x, y)   reads [x, one_hot(y)]     (N, D + C)
    decoder   p(x | z, y)   reads [z, one_hot(y)]     (N, K + C)
    prior     p(z) = N(0, I), as before

so the code z is free to hold what the label does not say (slant, thickness), and
decoding the same z with another y draws the same style of another digit. The label is
data, like x: nothing about it is learned.

The tiny CVAE of this exercise is exercise 8's VAE with the label appended (H hidden
units each way, K latent dimensions, D pixels, C classes):

    a1     = [x, one_hot(y)] W_e + b_e    enc.0.W (D + C, H),  enc.0.b (H,)
    h1     = relu(a1)                                                          (N, H)
    mu     = h1 W_mu + b_mu               enc.mu.W (H, K),     enc.mu.b (K,)
    logvar = h1 W_lv + b_lv               enc.logvar.W (H, K), enc.logvar.b (K,)
    z      = mu + exp(logvar / 2) * eps                                        (N, K)
    a2     = [z, one_hot(y)] W_d + b_d    dec.0.W (K + C, H),  dec.0.b (H,)
    h2     = relu(a2)                                                          (N, H)
    logits = h2 W_o + b_o                 dec.out.W (H, D),    dec.out.b (D,)
    loss   = 1/N sum_n [ sum_d (softplus(logits_nd) - x_nd logits_nd) + KL_n ]

with KL_n = KL( N(mu_n, diag exp(logvar_n)) || N(0, I) ), summed over the K dimensions.

What you may use: numvae's primitives of exercises 2 to 7, as in exercise 8 (imported
below), or your own pieces (``from ex08_elbo import ...``: the grader puts your folder on
the import path). numvae's own with_label, VAE and CVAE are the answers: while grading,
calling them fails the check.

Check your work:  python -m numvae exercises check . conditional
"""

from __future__ import annotations

import numpy as np

import numvae as nv  # noqa: F401  (nv.linear_forward, nv.relu_backward, nv.kl_standard_normal, ...)


def with_label(inputs: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    """The conditional input [inputs, one_hot(y)]: the label's C columns after the inputs'.

        one_hot(y)[n, c] = 1 if c == y[n] else 0,       c = 0 .. classes - 1

    Shapes: inputs (N, M) floats, y (N,) integers in [0, classes) -> (N, M + classes).
    The one-hot is ``classes`` wide whatever labels a batch happens to hold.
    """
    raise NotImplementedError("exercise 11 (conditional): implement with_label")


def with_label_backward(dout: np.ndarray, classes: int) -> np.ndarray:
    """The gradient of L with respect to ``inputs``, given dout = dL/d[inputs, one_hot(y)].

    The forward pass copies inputs[n, m] to out[n, m] and writes constants (0 or 1, which
    depend on y alone) into the last ``classes`` columns. The rule: the chain rule entry by
    entry, dL/dinputs[n, m] = sum over the entries of out of dout * d out / d inputs[n, m].

    Shapes: dout (N, M + classes) -> (N, M), the shape of inputs.
    """
    raise NotImplementedError("exercise 11 (conditional): implement with_label_backward")


def negative_elbo_and_grads(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, eps: np.ndarray):
    """The mini-batch -ELBO of the tiny CVAE and its gradient with respect to every parameter.

    Shapes: params as in the module docstring; x (N, D) in [0, 1]; y (N,) integer labels in
    [0, C) (C is the number of rows of enc.0.W minus D); eps (N, K) the frozen noise.
    Returns (loss, grads): loss a number, grads {name: array of that parameter's shape}
    with exactly the names of params.

    The rules: exercise 8's backward pass, read from the bottom up, with one more step
    after each of the two layers that read a label: your with_label_backward. mu and
    logvar reach the loss along two paths, through z and through the KL, and their
    gradients add.
    """
    raise NotImplementedError("exercise 11 (conditional): implement negative_elbo_and_grads")
