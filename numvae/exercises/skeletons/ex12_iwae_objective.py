"""Exercise 12: the importance-weighted objective -L_k, and its gradients.

Exercise 9 estimated log p(x) with k draws z_1..z_k from q(z|x) and the bound

    L_k = log (1/k) sum_i w_i,      log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)

which is tighter than the ELBO (L_1) and tends to log p(x) as k grows. Burda, Grosse
and Salakhutdinov (2015) *train* on it: the importance-weighted autoencoder (IWAE)
minimises the mini-batch loss

    loss = -1/N sum_n L_k(x_n) = -1/N sum_n [ log sum_i exp(log w_in) - log k ]

with the draws reparameterized, z_in = mu_n + exp(logvar_n / 2) * eps_in, so that the
gradient reaches the encoder's mu and logvar through every log w_in. As in exercise 9,
everything stays in log space: log w is near -100 for an MNIST image, and exp(-100) is
far below what float32 holds.

Write the loss from the log weights, its gradient with respect to the log weights, and
then the whole gradient for a toy model small enough to write out (below).

What you may use: NumPy, and your own pieces of earlier exercises (e.g. ``from ex09_iwae
import logsumexp``: the grader puts your folder on the import path). numvae's own IWAE
objective (numvae.iwae.iwae_loss_and_grads) and the functions that compute its pieces
are off limits while grading.

Check your work:  python -m numvae exercises check . iwae_objective
"""

from __future__ import annotations

import numpy as np


def iwae_loss(log_w: np.ndarray) -> float:
    """The mini-batch loss -L_k from the log weights of k draws per example.

        loss = -1/N sum_n [ log sum_i exp(log_w[i, n]) - log k ]

    Shapes: log_w (k, N) -> a number (the mean over the N examples).
    Must be finite and exact for log weights near -1000.
    """
    raise NotImplementedError("exercise 12 (iwae_objective): implement iwae_loss")


def iwae_loss_grad(log_w: np.ndarray) -> np.ndarray:
    """The gradient of iwae_loss with respect to every log weight, d loss / d log_w[i, n].

    The forward pass: loss = -1/N sum_n [ log sum_i exp(log_w[i, n]) - log k ].
    The rules: the chain rule through log(u) (d log u / du = 1 / u) and through the sum of
    exp(a_i) (d exp(a) / da = exp(a)); only example n's terms depend on log_w[i, n].
    Your result involves exp of log weights: compute it so that it stays finite and exact
    for log weights near -1000, as log-sum-exp does.

    Shapes: log_w (k, N) -> (k, N).
    """
    raise NotImplementedError("exercise 12 (iwae_objective): implement iwae_loss_grad")


def toy_iwae_loss_and_grads(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray):
    """-L_k of a toy model and its gradients with respect to the encoder's mu and logvar.

    The toy model has K latent dimensions and K binary pixels, and no network: mu and
    logvar (what an encoder would output) are given, and the decoder's logits are z itself.

        prior      p(z)       = N(z; 0, I)
        decoder    p(x | z)   = prod_d sigmoid(z_d)^x_d (1 - sigmoid(z_d))^(1 - x_d)
                   log p(x|z) = sum_d [ x_d z_d - softplus(z_d) ]          (exercise 3)
        encoder    q(z | x)   = N(z; mu, diag exp(logvar))
        draws      z_in       = mu_n + exp(logvar_n / 2) * eps_in,   i = 1..k
        log w_in   = log p(x_n | z_in) + log N(z_in; 0, I) - log N(z_in; mu_n, diag exp(logvar_n))
        loss       = iwae_loss(log w)

    with the Gaussian log-densities summed over the K dimensions, constants included:
        log N(z; m, diag v) = -1/2 sum_j [ log(2 pi) + log v_j + (z_j - m_j)^2 / v_j ].

    The rules: the chain rule from the loss to each log w_in (your iwae_loss_grad), then
    from log w_in to z_in and on through z_in = mu_n + exp(logvar_n / 2) * eps_in; the k
    draws of example n all depend on mu_n and logvar_n. log q(z_in | x_n) depends on mu and
    logvar in two ways: as the parameters of the density, and through z_in.
    Useful: d softplus(u) / du = sigmoid(u), d exp(u / 2) / du = exp(u / 2) / 2.

    Shapes: x (N, K) in {0, 1}, mu (N, K), logvar (N, K), eps (k, N, K)
            -> (loss (a number), dmu (N, K), dlogvar (N, K)).
    """
    raise NotImplementedError("exercise 12 (iwae_objective): implement toy_iwae_loss_and_grads")
