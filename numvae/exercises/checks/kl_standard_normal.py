"""Checks for exercise 5: KL(N(mu, diag sigma^2) || N(0, I)) and its gradients.

References: ``numvae.kl_standard_normal`` and ``numvae.kl_standard_normal_grad``.
"""

from __future__ import annotations

import numpy as np

from ...kl import kl_standard_normal, kl_standard_normal_grad
from ..compare import as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, K = 5, 3
KL_VALUE = "kl_standard_normal: 1/2 sum_j (mu^2 + exp(logvar) - logvar - 1)"
KL_DLOGVAR = "kl_standard_normal_grad: dlogvar, the gradient with respect to logvar"
MISSING_MINUS_ONE = (f"received = expected + K/2 = expected + {K / 2:g} for every example: the -1 "
                     "inside the sum is missing (without it KL(N(0, I) || N(0, I)) would be K/2, not 0)")


def _inputs(rng):
    return rng.standard_normal((N, K)), rng.uniform(-2.0, 2.0, (N, K))


def _student_grads(student, mu, logvar):
    return unpack(call(need(student, "kl_standard_normal_grad"), mu, logvar), ("dmu", "dlogvar"),
                  "kl_standard_normal_grad(mu, logvar)")


@CHECKS(KL_VALUE)
def kl_value(student, rng):
    mu, logvar = _inputs(rng)
    expected = kl_standard_normal(mu, logvar)
    assert_close(
        "kl_standard_normal(mu, logvar)", call(need(student, "kl_standard_normal"), mu, logvar), expected,
        mistakes={
            MISSING_MINUS_ONE: expected + K / 2,
            f"you averaged over the K = {K} latent dimensions: the KL of independent dimensions is "
            "their sum": expected / K,
            "the factor 1/2 is missing": 2 * expected,
            "logvar was read as ln sigma: logvar = ln sigma^2, so sigma^2 = exp(logvar)":
                kl_standard_normal(mu, 2 * logvar),
        },
        shape_hint="one value per example: sum over the latent dimensions only (axis=1)")


@CHECKS("kl_standard_normal is 0 when q = N(0, I)", value=False, after=(KL_VALUE,))
def kl_zero(student, rng):
    zeros = np.zeros((int(rng.integers(2, 7)), K))
    assert_close("kl_standard_normal(0, 0)", call(need(student, "kl_standard_normal"), zeros, zeros),
                 np.zeros(len(zeros)), mistakes={MISSING_MINUS_ONE: np.full(len(zeros), K / 2)})


@CHECKS("kl_standard_normal_grad: dmu, the gradient with respect to mu", value=False, after=(KL_DLOGVAR,))
def kl_dmu(student, rng):
    # value=False: mu handed back unchanged is the right dmu, so this counts with dlogvar.
    mu, logvar = _inputs(rng)
    dmu, _ = _student_grads(student, mu, logvar)
    expected = kl_standard_normal_grad(mu, logvar)[0]
    assert_close("dmu (gradient with respect to mu)", dmu, expected,
                 mistakes={"the sign is flipped: the KL grows as mu moves away from 0": -expected,
                           "the factor is off: differentiate 1/2 mu^2 with the power rule": 0.5 * expected})


@CHECKS(KL_DLOGVAR)
def kl_dlogvar(student, rng):
    mu, logvar = _inputs(rng)
    _, dlogvar = _student_grads(student, mu, logvar)
    expected = kl_standard_normal_grad(mu, logvar)[1]
    assert_close("dlogvar (gradient with respect to logvar)", dlogvar, expected,
                 mistakes={"the sign is flipped: the KL grows with logvar when sigma > 1": -expected,
                           "the factor 1/2 is missing": 2 * expected,
                           "the derivative of the -logvar term is missing": 0.5 * np.exp(logvar)})


@CHECKS("the gradients agree with finite differences of kl_standard_normal", value=False, after=(KL_VALUE,))
def kl_numeric(student, rng):
    mu, logvar = _inputs(rng)
    dmu, dlogvar = _student_grads(student, mu, logvar)
    value = need(student, "kl_standard_normal")
    args = (mu, logvar)
    for name, position, grad in (("dmu", 0, dmu), ("dlogvar", 1, dlogvar)):
        def losses(points, position=position):
            outs = value.map([args[:position] + (p,) + args[position + 1:] for p in points])
            return [float(np.sum(as_array("kl_standard_normal(mu, logvar)", out, (N,)))) for out in outs]

        assert_close(f"{name} (your gradient against finite differences of your kl_standard_normal)",
                     grad, finite_differences(losses, args[position]))
