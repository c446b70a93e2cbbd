"""Exercise 8: the -ELBO of a mini-batch and its gradients, through a tiny VAE.

Put the pieces together. The VAE's loss for one example is the negative evidence lower
bound, reconstruction error plus regulariser:

    -ELBO(x) = -log p(x | z) + KL( q(z | x) || N(0, I) ),    z = mu + exp(logvar / 2) * eps

and the mini-batch loss is its *mean over the batch*, the reconstruction term (a binary
cross-entropy) *summed over pixels*, the KL *summed over latent dimensions*. The network,
with the parameter names you will find in ``params`` (one hidden layer of H units each
way, K latent dimensions, D pixels):

    a1     = x W_e + b_e                  enc.0.W (D, H),      enc.0.b (H,)
    h1     = relu(a1)                                                          (N, H)
    mu     = h1 W_mu + b_mu               enc.mu.W (H, K),     enc.mu.b (K,)
    logvar = h1 W_lv + b_lv               enc.logvar.W (H, K), enc.logvar.b (K,)
    z      = mu + exp(logvar / 2) * eps                                        (N, K)
    a2     = z W_d + b_d                  dec.0.W (K, H),      dec.0.b (H,)
    h2     = relu(a2)                                                          (N, H)
    logits = h2 W_o + b_o                 dec.out.W (H, D),    dec.out.b (D,)
    loss   = 1/N sum_n [ sum_d (softplus(logits_nd) - x_nd logits_nd) + KL_n ]

The backward pass is the forward pass read from the bottom up, the chain rule at every
line. Derive the gradient with respect to logits from exercise 3's cross-entropy and the
batch mean (each example's loss has weight 1/N); mu and logvar reach the loss along two
paths, through z (reparameterization) and through the KL, and their gradients add.

What you may use: numvae's primitives are imported below (they are exercises 2-7, already
checked), so this exercise's grade depends on this file only. You may instead use your own
pieces, e.g. ``from ex02_linear_relu import linear_forward, linear_backward``: the grader
puts your folder on the import path. numvae.VAE is the answer: while grading, calling it
fails the check.

Check your work:  python -m numvae exercises check . elbo
"""

from __future__ import annotations

import numpy as np

import numvae as nv  # noqa: F401  (nv.linear_forward, nv.relu_backward, nv.kl_standard_normal, ...)


def negative_elbo_and_grads(params: dict[str, np.ndarray], x: np.ndarray, eps: np.ndarray):
    """The mini-batch -ELBO and its gradient with respect to every parameter.

    Shapes: params as in the module docstring; x (N, D) in [0, 1]; eps (N, K) the frozen
    noise of the reparameterization.
    Returns (loss, grads): loss a number, grads {name: array of that parameter's shape}
    with exactly the names of params.

    Useful: nv.linear_forward / nv.linear_backward, nv.relu_forward / nv.relu_backward,
    nv.reparameterize / nv.reparameterize_backward, nv.bernoulli_log_prob (= -BCE) and
    nv.bernoulli_log_prob_grad, nv.kl_standard_normal and nv.kl_standard_normal_grad (the last two
    accept dout, the weight of each example).
    """
    raise NotImplementedError("exercise 8 (elbo): implement negative_elbo_and_grads")
