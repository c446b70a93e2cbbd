"""Exercise 4: the Gaussian negative log-likelihood, its gradients, and why it is MSE.

If the decoder's output for pixel d is the mean m_d of a Gaussian with variance
v_d = exp(logvar_d), the likelihood of an image x is a product over pixels, and

    -log p(x | m, v) = 1/2 sum_d [ log(2 pi) + logvar_d + (x_d - m_d)^2 / exp(logvar_d) ]

summed over the D pixels. The seed's point: with sigma = 1 (logvar = 0) this is
1/2 ||x - m||^2 + D/2 log(2 pi), half the squared error plus a constant, so maximum
likelihood under a unit Gaussian *is* least squares (MSE up to scale and constant).

Variances travel as log-variances: logvar = ln sigma^2, not ln sigma.

Check your work:  python -m numvae exercises check . gaussian_nll
"""

from __future__ import annotations

import numpy as np


def gaussian_nll(x: np.ndarray, mean: np.ndarray, logvar) -> np.ndarray:
    """-log N(x | mean, diag exp(logvar)), summed over the D features (constant included).

        NLL_n = 1/2 sum_d [ log(2 pi) + logvar_nd + (x_nd - m_nd)^2 exp(-logvar_nd) ]

    Shapes: x (N, D), mean (N, D), logvar (N, D) or a number (e.g. 0.0 for sigma = 1)
    -> (N,).
    """
    raise NotImplementedError("exercise 4 (gaussian_nll): implement gaussian_nll")


def gaussian_nll_grad(x: np.ndarray, mean: np.ndarray, logvar: np.ndarray):
    """Gradients of sum_n NLL_n with respect to mean and logvar.

    The forward pass: NLL_n = 1/2 sum_d [ log(2 pi) + logvar_nd + (x_nd - m_nd)^2 exp(-logvar_nd) ].
    The rules: d (x - m)^2 / dm = -2 (x - m) (chain rule), d exp(-u) / du = -exp(-u), and
    each m_nd and logvar_nd appears in one term of one sum.

    Shapes: x, mean, logvar (N, D) -> (dmean (N, D), dlogvar (N, D)).
    """
    raise NotImplementedError("exercise 4 (gaussian_nll): implement gaussian_nll_grad")


def gaussian_nll_constant(d: int) -> float:
    """The constant C(D) in  gaussian_nll(x, m, 0) = 1/2 ||x - m||^2 + C(D).

    Shapes: d, the number D of features (an int) -> a float.
    Hint: set logvar = 0 in the formula above and collect what does not depend on x or m.
    """
    raise NotImplementedError("exercise 4 (gaussian_nll): implement gaussian_nll_constant")
