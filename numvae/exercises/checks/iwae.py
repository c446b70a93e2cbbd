"""Checks for exercise 9: the importance-weighted estimate of log p(x), with log-sum-exp.

References: ``numvae.logsumexp``; the log weights from ``numvae.gaussian_log_prob`` (the
densities of the prior and of q, constants included), as ``numvae.log_importance_weights``
computes them; the estimate as ``numvae.iwae_log_px`` forms it, logsumexp over the k
samples minus log k.
"""

from __future__ import annotations

import math

import numpy as np

from ...iwae import logsumexp
from ...likelihoods import gaussian_log_prob
from ..compare import assert_close, call, need
from . import CheckList

CHECKS = CheckList()
SAMPLES, N, K = 3, 4, 2
ESTIMATE = "iwae_estimate: logsumexp over the k samples minus log k"
STABILITY_HINT = ("exp(1000) overflows to inf and exp(-1000) underflows to 0; subtract the maximum m "
                  "along the axis first: logsumexp(a) = m + log(sum(exp(a - m)))")


def _log_prior_and_posterior(z, mu, logvar):
    """log N(z; 0, I) and log N(z; mu, diag exp(logvar)), each (k, N), constants included."""
    k, n, dim = z.shape
    flat = z.reshape(k * n, dim)
    log_pz = gaussian_log_prob(flat, np.zeros_like(flat), 0.0).reshape(k, n)
    log_qz = gaussian_log_prob(flat, np.broadcast_to(mu, z.shape).reshape(k * n, dim),
                               np.broadcast_to(logvar, z.shape).reshape(k * n, dim)).reshape(k, n)
    return log_pz, log_qz


def _reference_estimate(log_w):
    return logsumexp(log_w, axis=0) - math.log(log_w.shape[0])


def _missing_log_k(expected: np.ndarray, k: int) -> dict:
    return {f"received = expected + log k = expected + {math.log(k):.6g} for every example: the - log k "
            f"is missing (k = {k}): L_k is the log of the *mean* of the weights, logsumexp - log k":
            expected + math.log(k)}


@CHECKS("logsumexp(a, axis) along axis 0 and along axis 1")
def lse_value(student, rng):
    a = 3 * rng.standard_normal((4, 5))
    fn = need(student, "logsumexp")
    for axis in (0, 1):
        assert_close(f"logsumexp(a, axis={axis})", call(fn, a, axis), logsumexp(a, axis=axis),
                     shape_hint=f"the axis {axis} is summed away: (4, 5) -> {(5,) if axis == 0 else (4,)}")


@CHECKS("logsumexp is finite and exact for values near -1000 and +1000")
def lse_stable(student, rng):
    low, high = -1000.0 - rng.integers(0, 50), 1000.0 + rng.integers(0, 50)
    a = np.array([[low, low - 1, low - 2], [high, high, high - 1], [-1e4, 0.0, -1e4]])
    a = a[rng.permutation(3)][:, rng.permutation(3)]
    assert_close("logsumexp(a, axis=1)", call(need(student, "logsumexp"), a, 1), logsumexp(a, axis=1),
                 context={"a[:, 0]": a[:, 0]}, nonfinite_hint=STABILITY_HINT)


def _weight_inputs(rng):
    mu, logvar = rng.standard_normal((N, K)), rng.uniform(-1.5, 1.0, (N, K))
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((SAMPLES, N, K))
    return -rng.uniform(20, 60, (SAMPLES, N)), z, mu, logvar


@CHECKS("log_importance_weights: log p(x|z) + log p(z) - log q(z|x)")
def log_weights(student, rng):
    log_px_z, z, mu, logvar = _weight_inputs(rng)
    log_pz, log_qz = _log_prior_and_posterior(z, mu, logvar)
    expected = log_px_z + log_pz - log_qz
    assert_close(
        "log_importance_weights(log_px_given_z, z, mu, logvar)",
        call(need(student, "log_importance_weights"), log_px_z, z, mu, logvar), expected,
        mistakes={
            "log q(z|x) was added: the weight is p(x|z) p(z) / q(z|x), so log q is subtracted":
                log_px_z + log_pz + log_qz,
            "the normalisation -1/2 sum_j logvar_j of log q(z|x) is missing":
                expected - 0.5 * logvar.sum(axis=1),
            "logvar was read as ln sigma: the variance of q is exp(logvar)":
                log_px_z + log_pz - _log_prior_and_posterior(z, mu, 2 * logvar)[1],
        },
        shape_hint="one log weight per sample and example: (k, N)")


@CHECKS(ESTIMATE)
def estimate(student, rng):
    log_w = -rng.uniform(20, 60, (SAMPLES, N))
    expected = _reference_estimate(log_w)
    assert_close("iwae_estimate(log_w)", call(need(student, "iwae_estimate"), log_w), expected, mistakes={
        "received the mean of the log weights, the ELBO estimate: L_k is the log of the mean of the "
        "weights, logsumexp(log_w, axis=0) - log k": log_w.mean(axis=0),
        **_missing_log_k(expected, SAMPLES),
    }, shape_hint="one estimate per example: reduce over the samples, axis 0")


@CHECKS("iwae_estimate with k = 1 is the log weight itself (the ELBO estimate)", value=False,
        after=(ESTIMATE,))
def estimate_single(student, rng):
    log_w = -rng.uniform(20, 60, (1, N))
    assert_close("iwae_estimate(log_w) with k = 1", call(need(student, "iwae_estimate"), log_w), log_w[0])


@CHECKS("iwae_estimate is finite for log weights near -1000, typical of images")
def estimate_stable(student, rng):
    log_w = -1000.0 - rng.uniform(0, 5, (SAMPLES, N))
    expected = _reference_estimate(log_w)
    assert_close("iwae_estimate(log_w)", call(need(student, "iwae_estimate"), log_w), expected,
                 mistakes=_missing_log_k(expected, SAMPLES),
                 nonfinite_hint=STABILITY_HINT + " (use your logsumexp)")
