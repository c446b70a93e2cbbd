"""Checks for exercise 4: the Gaussian negative log-likelihood, its gradients, and MSE.

References: ``-numvae.gaussian_log_prob`` and ``-numvae.gaussian_log_prob_grad``; the
constant that separates the NLL at sigma = 1 from half the squared error is
``-numvae.gaussian_log_prob(x, x, 0)``, the NLL of a perfect reconstruction.
"""

from __future__ import annotations

import math

import numpy as np

from ...likelihoods import gaussian_log_prob, gaussian_log_prob_grad
from ..compare import as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, D = 4, 6
LOG_2PI = math.log(2 * math.pi)
NLL_VALUE = "gaussian_nll: 1/2 sum_d [log 2pi + logvar + (x - m)^2 / exp(logvar)]"


def _inputs(rng):
    return rng.standard_normal((N, D)), rng.standard_normal((N, D)), rng.uniform(-1.5, 1.5, (N, D))


@CHECKS(NLL_VALUE)
def nll_value(student, rng):
    x, mean, logvar = _inputs(rng)
    expected = -gaussian_log_prob(x, mean, logvar)
    sq = (x - mean) ** 2
    assert_close(
        "gaussian_nll(x, mean, logvar)", call(need(student, "gaussian_nll"), x, mean, logvar), expected,
        mistakes={
            f"you averaged over the D = {D} pixels: the NLL of an image sums over its pixels": expected / D,
            "the constant 1/2 log(2 pi) per pixel is missing": expected - 0.5 * D * LOG_2PI,
            "logvar was read as ln sigma: logvar = ln sigma^2, so the variance is exp(logvar)":
                0.5 * np.sum(LOG_2PI + 2 * logvar + sq * np.exp(-2 * logvar), axis=1),
            "the 1/2 log sigma^2 = logvar / 2 term is missing (it normalises the density)":
                expected - 0.5 * logvar.sum(1),
        },
        shape_hint="one value per example: sum over the pixels only (axis=1)")


def _student_grads(student, x, mean, logvar):
    return unpack(call(need(student, "gaussian_nll_grad"), x, mean, logvar), ("dmean", "dlogvar"),
                  "gaussian_nll_grad(x, mean, logvar)")


@CHECKS("gaussian_nll_grad: dmean, the gradient with respect to the mean")
def nll_dmean(student, rng):
    x, mean, logvar = _inputs(rng)
    dmean, _ = _student_grads(student, x, mean, logvar)
    expected = -gaussian_log_prob_grad(x, mean, logvar)[0]
    assert_close("dmean (gradient with respect to mean)", dmean, expected,
                 mistakes={"received (x - m) / v, the gradient of log N; the NLL is -log N, so "
                           "its gradient has the opposite sign": -expected,
                           "the 1/exp(logvar) is missing: the squared error is divided by the variance":
                               mean - x})


@CHECKS("gaussian_nll_grad: dlogvar, the gradient with respect to logvar")
def nll_dlogvar(student, rng):
    x, mean, logvar = _inputs(rng)
    _, dlogvar = _student_grads(student, x, mean, logvar)
    expected = -gaussian_log_prob_grad(x, mean, logvar)[1]
    assert_close("dlogvar (gradient with respect to logvar)", dlogvar, expected,
                 mistakes={"the sign is flipped: d/dlogvar of +logvar/2 is +1/2, and "
                           "d/dlogvar exp(-logvar) = -exp(-logvar)": -expected},
                 shape_hint="one derivative per entry of logvar, (N, D)")


@CHECKS("gaussian_nll_grad agrees with finite differences of gaussian_nll", value=False, after=(NLL_VALUE,))
def nll_numeric(student, rng):
    x, mean, logvar = _inputs(rng)
    dmean, dlogvar = _student_grads(student, x, mean, logvar)
    value = need(student, "gaussian_nll")
    args = (x, mean, logvar)
    for name, position, grad in (("dmean", 1, dmean), ("dlogvar", 2, dlogvar)):
        def losses(points, position=position):
            outs = value.map([args[:position] + (p,) + args[position + 1:] for p in points])
            return [float(np.sum(as_array("gaussian_nll(x, mean, logvar)", out, (N,)))) for out in outs]

        assert_close(f"{name} (your gradient against finite differences of your gaussian_nll)",
                     grad, finite_differences(losses, args[position]))


@CHECKS("sigma = 1 gives 1/2 ||x - m||^2 + D/2 log 2 pi: squared error")
def nll_is_mse(student, rng):
    x, mean, _ = _inputs(rng)
    half_sse = 0.5 * np.sum((x - mean) ** 2, axis=1)
    received = call(need(student, "gaussian_nll"), x, mean, 0.0)
    expected = half_sse - gaussian_log_prob(x, x, 0.0)
    assert_close("gaussian_nll(x, mean, logvar=0.0)", received, expected,
                 mistakes={"the constant D/2 log(2 pi) is missing": half_sse},
                 hint="logvar may be the number 0.0: write the formula with NumPy operations that "
                      "broadcast (np.exp(logvar) works for a number and for an array)")


@CHECKS("gaussian_nll_constant(D) = D/2 log 2 pi")
def nll_constant(student, rng):
    dims = (int(rng.integers(2, 40)), int(rng.integers(100, 1000)), 1)
    fn = need(student, "gaussian_nll_constant")
    received = [call(fn, d) for d in dims]
    for d, value in zip(dims, received, strict=True):
        assert_close(f"gaussian_nll_constant({d})", value, -float(gaussian_log_prob(np.zeros((1, d)),
                     np.zeros((1, d)), 0.0)[0]),
                     mistakes={"the factor D is missing: every pixel contributes 1/2 log 2 pi": 0.5 * LOG_2PI,
                               "the factor 1/2 is missing": d * LOG_2PI})
