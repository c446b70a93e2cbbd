"""Exercise 13: a learned mixture-of-Gaussians prior, log p(z) and its gradients.

The lecture's prior p(z) = N(0, I) asks every code z to crowd around 0. A learned
mixture of C Gaussians can instead sit where the encoder actually puts the codes, one
component per cluster (Tomczak and Welling 2018; the GMVAE):

    p(z) = sum_c pi_c N(z; m_c, diag exp(s_c)),      pi = softmax(w),  c = 1..C

with means m (C, K), log-variances s (C, K) and weight logits w (C,), all learned with
the rest of the model; the softmax keeps the weights pi_c positive and summing to 1,
whatever w is. The KL between q(z|x) and a mixture has no closed form, so the VAE
estimates it at its drawn z as log q(z|x) - log p(z): what it needs from the prior is
log p(z) and its gradients, this exercise.

In log space, with the log-sum-exp of exercise 9 (a density far from z underflows to 0):

    log p(z) = log sum_c exp(a_c),      a_c = log pi_c + log N(z; m_c, diag exp(s_c))
    log pi_c = w_c - log sum_j exp(w_j)
    log N(z; m, diag v) = -1/2 sum_k [ log(2 pi) + log v_k + (z_k - m_k)^2 / v_k ]

s_c is a log-*variance*: v = exp(s), as the encoder's logvar (exercises 4 and 5).

What you may use: NumPy, and your own pieces of earlier exercises (``from ex09_iwae import
logsumexp``: the grader puts your folder on the import path). numvae's MixturePrior,
softmax and categorical_log_prob are off limits while grading.

Check your work:  python -m numvae exercises check . mixture_prior
"""

from __future__ import annotations

import numpy as np


def mixture_log_prob(z: np.ndarray, means: np.ndarray, logvars: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """log p(z_n) of the mixture for each code z_n.

        log p(z_n) = logsumexp_c [ log softmax(w)_c + log N(z_n; m_c, diag exp(s_c)) ]

    Shapes: z (M, K), means (C, K), logvars (C, K), logits (C,) -> (M,).
    Must be finite and exact for z far from every component (a_c near -1000) and for
    large logits (w near 800).
    """
    raise NotImplementedError("exercise 13 (mixture_prior): implement mixture_log_prob")


def mixture_log_prob_grads(z: np.ndarray, means: np.ndarray, logvars: np.ndarray, logits: np.ndarray):
    """Gradients of L = sum_n log p(z_n) with respect to z and to the prior's three parameters.

    The forward pass: L = sum_n log sum_c exp(a_nc), a_nc = log pi_c + log N(z_n; m_c, diag exp(s_c)),
    log pi_c = w_c - log sum_j exp(w_j).
    The rules: the chain rule through log sum_c exp(a_c) (d log u / du = 1 / u,
    d exp(a) / da = exp(a)); then through a_nc to z_n, m_c, s_c (exercise 4's rules:
    d (z - m)^2 / dm = -2 (z - m), d exp(-s) / ds = -exp(-s)) and to every w_j (log pi_c
    depends on all of them, through the log-sum-exp). Every z_n uses every component, so
    a component's gradients add up over the M codes. Keep it finite where exp(a_nc)
    underflows, as in mixture_log_prob.

    Shapes: z (M, K), means (C, K), logvars (C, K), logits (C,)
            -> (dz (M, K), dmeans (C, K), dlogvars (C, K), dlogits (C,)).
    """
    raise NotImplementedError("exercise 13 (mixture_prior): implement mixture_log_prob_grads")
