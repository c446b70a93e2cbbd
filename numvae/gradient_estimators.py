"""Two unbiased estimators of the gradient of an expectation over a Gaussian.

The VAE needs d/dtheta E_{z ~ q}[f(z)] with q = N(mu, diag sigma^2), sigma^2 = exp(logvar).
Drawing z is not differentiable, so the gradient is itself estimated from S samples:

Pathwise (the reparameterization trick): z = mu + sigma * eps, eps ~ N(0, I), so

    d/dmu E[f] = E_eps[ f'(z) ],     d/dlogvar E[f] = E_eps[ f'(z) * sigma * eps / 2 ].

Score function (REINFORCE, the likelihood-ratio trick): d/dtheta q = q * d/dtheta log q, so

    d/dtheta E[f] = E_q[ (f(z) - c) * d/dtheta log q(z) ],
    d log q / dmu = (z - mu) / sigma^2,   d log q / dlogvar = ((z - mu)^2 / sigma^2 - 1) / 2,

for any constant baseline c, because E_q[d log q / dtheta] = 0. It needs only values of
f, not its derivative, but it multiplies f by a zero-mean random factor, and its variance
is typically far larger: lesson 07 measures by how much.

Each function returns the S per-sample estimates (S, K); their mean is the estimate and
their variance / S its squared standard error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .likelihoods import gaussian_log_prob_grad
from .plumbing.checks import as_float_array, check_finite, check_ndim
from .reparameterization import reparameterize, reparameterize_backward


def _broadcast(mu, logvar, eps):
    """mu, logvar (K,) and eps (S, K) -> mu, logvar broadcast to (S, K), eps."""
    mu, logvar, eps = (as_float_array(n, a) for n, a in (("mu", mu), ("logvar", logvar), ("eps", eps)))
    check_ndim("mu", mu, 1, "(K,)")
    check_ndim("eps", eps, 2, f"(S, {mu.size})")
    if logvar.shape != mu.shape:
        raise ValueError(f"logvar must have the shape of mu {mu.shape}, got {logvar.shape}")
    if eps.shape[1] != mu.size:
        raise ValueError(f"eps must have {mu.size} columns to match mu, got shape {eps.shape}")
    for name, arr in (("mu", mu), ("logvar", logvar), ("eps", eps)):
        check_finite(name, arr)
    return np.broadcast_to(mu, eps.shape), np.broadcast_to(logvar, eps.shape), eps


def _call(name: str, fn, z: np.ndarray, shape: tuple) -> np.ndarray:
    out = np.asarray(fn(z))
    if out.shape != shape:
        raise ValueError(f"{name}(z) must return shape {shape} for z of shape {z.shape}, got {out.shape}")
    return out


def pathwise_gradient(grad_f: Callable[[np.ndarray], np.ndarray], mu: np.ndarray, logvar: np.ndarray,
                      eps: np.ndarray):
    """Per-sample pathwise estimates of d/d(mu, logvar) E_q[f(z)].

    z_s = mu + exp(logvar / 2) eps_s; the estimates are f'(z_s) pushed back through
    ``reparameterize_backward``: (f'(z_s), f'(z_s) * exp(logvar / 2) * eps_s / 2).
    Shapes: grad_f maps z (S, K) -> df/dz (S, K); mu, logvar (K,); eps (S, K)
    -> (dmu (S, K), dlogvar (S, K)).
    """
    mu_b, logvar_b, eps = _broadcast(mu, logvar, eps)
    z = reparameterize(mu_b, logvar_b, eps)
    dz = _call("grad_f", grad_f, z, z.shape)
    return reparameterize_backward(dz, mu_b, logvar_b, eps)


def score_function_gradient(f: Callable[[np.ndarray], np.ndarray], mu: np.ndarray, logvar: np.ndarray,
                            eps: np.ndarray, baseline: float = 0.0):
    """Per-sample score-function (REINFORCE) estimates of d/d(mu, logvar) E_q[f(z)].

    (f(z_s) - baseline) * d/d(mu, logvar) log q(z_s), with the score of the diagonal
    Gaussian taken from ``gaussian_log_prob_grad`` (z_s plays the data, mu the mean).
    Shapes: f maps z (S, K) -> (S,); mu, logvar (K,); eps (S, K); baseline a float
    -> (dmu (S, K), dlogvar (S, K)).
    """
    if not np.isfinite(baseline):
        raise ValueError(f"baseline must be a finite float, got {baseline}")
    mu_b, logvar_b, eps = _broadcast(mu, logvar, eps)
    z = reparameterize(mu_b, logvar_b, eps)
    fz = _call("f", f, z, z.shape[:1])
    score_mu, score_logvar = gaussian_log_prob_grad(z, mu_b, logvar_b)
    weight = (fz - baseline)[:, None]
    return weight * score_mu, weight * score_logvar


def squared_distance(z: np.ndarray, target: np.ndarray):
    """f(z) = ||z - c||^2 and its derivative 2 (z - c), a test function with known answers.

    Shapes: z (S, K), target c (K,) -> (f (S,), df/dz (S, K)).
    """
    z, target = as_float_array("z", z), as_float_array("target", target)
    check_ndim("z", z, 2, "(S, K)")
    if target.shape != (z.shape[1],):
        raise ValueError(f"target must have shape ({z.shape[1]},) to match z, got {target.shape}")
    diff = z - target
    return np.sum(diff * diff, axis=1), 2 * diff


def expected_squared_distance(mu: np.ndarray, logvar: np.ndarray, target: np.ndarray):
    """E_q ||z - c||^2 for q = N(mu, diag exp(logvar)), and its exact gradients.

        E = sum_k [ (mu_k - c_k)^2 + exp(logvar_k) ]
        dE/dmu = 2 (mu - c),     dE/dlogvar = exp(logvar) = sigma^2
    Shapes: mu, logvar, target (K,) -> (E float, dE/dmu (K,), dE/dlogvar (K,)).
    """
    mu, logvar, target = (as_float_array(n, a) for n, a in
                          (("mu", mu), ("logvar", logvar), ("target", target)))
    check_ndim("mu", mu, 1, "(K,)")
    for name, arr in (("logvar", logvar), ("target", target)):
        if arr.shape != mu.shape:
            raise ValueError(f"{name} must have the shape of mu {mu.shape}, got {arr.shape}")
    var = np.exp(logvar)
    diff = mu - target
    return float(np.sum(diff * diff + var)), 2 * diff, var
