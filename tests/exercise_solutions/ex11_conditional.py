"""Reference solution of exercise 11: the tiny CVAE assembled from numvae's primitives and
its own with_label, written out (numvae's with_label and CVAE are traps while grading)."""

from __future__ import annotations

import numpy as np

import numvae as nv


def with_label(inputs: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    one_hot = np.zeros((inputs.shape[0], classes), dtype=inputs.dtype)
    one_hot[np.arange(inputs.shape[0]), y] = 1.0
    return np.concatenate([inputs, one_hot], axis=1)


def with_label_backward(dout: np.ndarray, classes: int) -> np.ndarray:
    return dout[:, :dout.shape[1] - classes].copy()


def negative_elbo_and_grads(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, eps: np.ndarray):
    p = params
    n, classes = x.shape[0], p["enc.0.W"].shape[0] - x.shape[1]
    # forward
    a1, enc_cache = nv.linear_forward(with_label(x, y, classes), p["enc.0.W"], p["enc.0.b"])
    h1, relu1_cache = nv.relu_forward(a1)
    mu, mu_cache = nv.linear_forward(h1, p["enc.mu.W"], p["enc.mu.b"])
    logvar, lv_cache = nv.linear_forward(h1, p["enc.logvar.W"], p["enc.logvar.b"])
    z = nv.reparameterize(mu, logvar, eps)
    a2, dec_cache = nv.linear_forward(with_label(z, y, classes), p["dec.0.W"], p["dec.0.b"])
    h2, relu2_cache = nv.relu_forward(a2)
    logits, out_cache = nv.linear_forward(h2, p["dec.out.W"], p["dec.out.b"])
    recon = -nv.bernoulli_log_prob(x, logits)  # (N,) summed over pixels
    kl = nv.kl_standard_normal(mu, logvar)  # (N,) summed over latent dimensions
    loss = float(np.mean(recon + kl))

    # backward
    g = {}
    dlogits = -nv.bernoulli_log_prob_grad(x, logits) / n
    dh2, g["dec.out.W"], g["dec.out.b"] = nv.linear_backward(dlogits, out_cache)
    da2 = nv.relu_backward(dh2, relu2_cache)
    dzy, g["dec.0.W"], g["dec.0.b"] = nv.linear_backward(da2, dec_cache)
    dz = with_label_backward(dzy, classes)  # the label is data: its columns' gradient goes nowhere
    dmu, dlogvar = nv.reparameterize_backward(dz, mu, logvar, eps)
    dmu_kl, dlogvar_kl = nv.kl_standard_normal_grad(mu, logvar, np.full(n, 1.0 / n))
    dh1_mu, g["enc.mu.W"], g["enc.mu.b"] = nv.linear_backward(dmu + dmu_kl, mu_cache)
    dh1_lv, g["enc.logvar.W"], g["enc.logvar.b"] = nv.linear_backward(dlogvar + dlogvar_kl, lv_cache)
    da1 = nv.relu_backward(dh1_mu + dh1_lv, relu1_cache)
    _, g["enc.0.W"], g["enc.0.b"] = nv.linear_backward(da1, enc_cache)
    return loss, g
