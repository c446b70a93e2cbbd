"""Checks for exercise 3: binary cross-entropy from logits, and its gradient.

BCE(x, l) = -log p(x | l) for a Bernoulli with p(x_d = 1) = sigmoid(l_d), summed over
pixels. References: ``-numvae.bernoulli_log_prob`` and ``-numvae.bernoulli_log_prob_grad``.
"""

from __future__ import annotations

import numpy as np

from ...likelihoods import bernoulli_log_prob, bernoulli_log_prob_grad
from ..compare import as_array, assert_close, call, finite_differences, need
from . import CheckList

CHECKS = CheckList()
N, D = 5, 8
BCE_VALUE = "bce_with_logits: sum_d softplus(l) - x l, one value per example"
MAGNITUDES = np.array([40.0, 100.0, 800.0, 1e4, 35.0])
NAIVE_HINT = ("for large |l|, sigmoid(l) rounds to exactly 1 or 0, so log(sigmoid(l)) or "
              "log(1 - sigmoid(l)) is log(0) = -inf (and an epsilon inside the log only hides it). "
              "Rewrite without any log of a probability: -log sigmoid(l) = softplus(-l), "
              "-log(1 - sigmoid(l)) = softplus(l), softplus(l) = max(l, 0) + log1p(exp(-|l|))")


def _inputs(rng):
    return rng.random((N, D)), 3 * rng.standard_normal((N, D))


def _large(rng):
    """Logits (10, 1) of magnitude 35 to 1e4, each with both signs, and targets 0, 1 and 1/2.

    One pixel per example, so the index of a wrong value is the index of its logit.
    """
    magnitudes = np.array([float(f"{m:.2g}") for m in MAGNITUDES * rng.uniform(0.8, 1.25, MAGNITUDES.size)])
    logits = np.stack([magnitudes, -magnitudes], axis=1).reshape(-1)
    x = np.where(np.arange(logits.size) % 2 == 0, 0.0, 1.0)
    x[-2:] = 0.5
    order = rng.permutation(logits.size)
    return x[order][:, None], logits[order][:, None]


def _reference(x, logits):
    return -bernoulli_log_prob(x, logits)


def _summing_mistakes(expected: np.ndarray) -> dict:
    return {
        f"you averaged over the D = {D} pixels (received = expected / {D}): the seed sums the "
        "cross-entropy over the pixels of an image, and only the loss averages over the batch":
            expected / D,
        "received is the log-likelihood log p(x | l) = -BCE: the cross-entropy is its negative": -expected,
    }


@CHECKS(BCE_VALUE)
def bce_value(student, rng):
    x, logits = _inputs(rng)
    expected = _reference(x, logits)
    assert_close("bce_with_logits(x, logits)", call(need(student, "bce_with_logits"), x, logits), expected,
                 mistakes=_summing_mistakes(expected),
                 shape_hint="one value per example: sum over the pixels only (axis=1)")


@CHECKS("bce_with_logits is finite and exact for large |logits| (up to 1e4)")
def bce_stable(student, rng):
    x, logits = _large(rng)
    expected = _reference(x, logits)
    assert_close("bce_with_logits(x, logits)", call(need(student, "bce_with_logits"), x, logits), expected,
                 context={"logits": logits[:, 0], "x": x[:, 0]}, hint=NAIVE_HINT)


@CHECKS("bce_with_logits_grad: the gradient with respect to the logits")
def bce_grad(student, rng):
    x, logits = _inputs(rng)
    expected = -bernoulli_log_prob_grad(x, logits)
    received = call(need(student, "bce_with_logits_grad"), x, logits)
    assert_close("dlogits (gradient of sum_n BCE_n with respect to the logits)", received, expected,
                 mistakes={"received x - sigmoid(l), the gradient of the log-likelihood log p(x | l); "
                           "the cross-entropy is -log p, so its gradient has the opposite sign": -expected,
                           f"you averaged over the D = {D} pixels: the gradient of a sum over pixels "
                           "has no 1/D": expected / D},
                 shape_hint="one derivative per logit, (N, D)")


@CHECKS("bce_with_logits_grad agrees with finite differences", value=False, after=(BCE_VALUE,))
def bce_grad_numeric(student, rng):
    x, logits = _inputs(rng)
    value = need(student, "bce_with_logits")
    received = call(need(student, "bce_with_logits_grad"), x, logits)

    def losses(points):
        return [float(np.sum(as_array("bce_with_logits(x, logits)", out, (N,))))
                for out in value.map([(x, p) for p in points])]

    assert_close("dlogits (your gradient against finite differences of your bce_with_logits)",
                 received, finite_differences(losses, logits), context={"logits": logits, "x": x})


@CHECKS("bce_with_logits_grad is finite and exact for large |logits|")
def bce_grad_stable(student, rng):
    x, logits = _large(rng)
    x[x == 0.5] = 1.0
    expected = -bernoulli_log_prob_grad(x, logits)
    assert_close("dlogits", call(need(student, "bce_with_logits_grad"), x, logits), expected,
                 context={"logits": logits[:, 0], "x": x[:, 0]},
                 hint="1 / (1 + exp(-l)) overflows for l = -1e4; use a sigmoid that only "
                      "exponentiates -|l|, or numvae.sigmoid")
