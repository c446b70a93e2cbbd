"""Exercise 3: the binary cross-entropy from logits, and its gradient.

The seed's decoder outputs, for every pixel d, the parameter of a Bernoulli
distribution: p(x_d = 1 | z) = sigmoid(l_d), where l_d is the decoder's *logit*. Maximum
likelihood then means minimising the binary cross-entropy (BCE)

    BCE(x, l) = -log p(x | l) = -sum_d [ x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d)) ]

summed over the D pixels of an image (one number per example). Written this way it is
useless in floating point: for l = 40, sigmoid(l) is exactly 1.0 and log(1 - 1.0) = -inf.
Use log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l) to get

    BCE(x, l) = sum_d [ softplus(l_d) - x_d l_d ],      softplus(l) = log(1 + exp(l))

and compute softplus without overflow: softplus(l) = max(l, 0) + log1p(exp(-|l|)).
x may be 0/1 or a grey level in [0, 1].

Check your work:  python -m numvae exercises check . bce
"""

from __future__ import annotations

import numpy as np


def bce_with_logits(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of targets x under Bernoulli(sigmoid(logits)), summed over pixels.

        BCE_n = sum_d [ softplus(l_nd) - x_nd l_nd ]

    Shapes: x (N, D) in [0, 1], logits (N, D) -> (N,), one value per example.
    Must be finite and accurate for |logits| up to 1e4: never take the log of sigmoid(l).
    """
    raise NotImplementedError("exercise 3 (bce): implement bce_with_logits")


def bce_with_logits_grad(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Gradient of sum_n BCE_n with respect to the logits.

    The forward pass: BCE_n = sum_d [ softplus(l_nd) - x_nd l_nd ]. The rules:
    d softplus(l) / dl = sigmoid(l) (differentiate log(1 + exp(l)) to see why), and each
    l_nd appears in one term of one sum.

    Shapes: x (N, D), logits (N, D) -> (N, D).
    Hint: compute the sigmoid so that it never overflows (exp(-l) for l = -1e4 is inf),
    e.g. exp(-|l|) / (1 + exp(-|l|)) for l < 0 and 1 / (1 + exp(-|l|)) for l >= 0.
    """
    raise NotImplementedError("exercise 3 (bce): implement bce_with_logits_grad")
