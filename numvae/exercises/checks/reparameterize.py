"""Checks for exercise 7: the reparameterization trick, forward and backward.

References: ``numvae.reparameterize`` and ``numvae.reparameterize_backward``; plus a
statistical check that the samples have the variance exp(logvar), the property the
classic bug (exp(logvar) used as the standard deviation) breaks.
"""

from __future__ import annotations

import numpy as np

from ...reparameterization import reparameterize, reparameterize_backward
from ..compare import CheckFailure, as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, K = 5, 3
FORWARD = "reparameterize: z = mu + exp(logvar / 2) * eps"
DLOGVAR = "reparameterize_backward: dlogvar, the gradient with respect to logvar"
VARIANCE_AS_STD = ("you used exp(logvar) as the standard deviation, but exp(logvar) = sigma^2 is "
                   "the variance: sigma = exp(logvar / 2)")


def _inputs(rng):
    return rng.standard_normal((N, K)), rng.uniform(-2.0, 2.0, (N, K)), rng.standard_normal((N, K))


def _student_grads(student, dz, mu, logvar, eps):
    return unpack(call(need(student, "reparameterize_backward"), dz, mu, logvar, eps), ("dmu", "dlogvar"),
                  "reparameterize_backward(dz, mu, logvar, eps)")


@CHECKS(FORWARD)
def forward(student, rng):
    mu, logvar, eps = _inputs(rng)
    assert_close("z", call(need(student, "reparameterize"), mu, logvar, eps), reparameterize(mu, logvar, eps),
                 context={"mu": mu, "logvar": logvar, "eps": eps},
                 mistakes={VARIANCE_AS_STD: mu + np.exp(logvar) * eps,
                           "logvar is a log-variance, not a standard deviation: sigma = exp(logvar / 2)":
                               mu + logvar * eps,
                           "exp(-logvar / 2) is 1 / sigma: sigma = exp(+logvar / 2)":
                               mu + np.exp(-0.5 * logvar) * eps})


@CHECKS("samples z have mean mu and variance exp(logvar)")
def sample_moments(student, rng):
    n = 20_000
    mu_row = np.round(rng.uniform(-2.0, 2.0, K), 1)
    logvar_row = np.round(rng.permutation([rng.uniform(-2.5, -1.5), rng.uniform(-0.5, 0.5),
                                           rng.uniform(1.0, 2.0)]), 1)
    mu, logvar = np.tile(mu_row, (n, 1)), np.tile(logvar_row, (n, 1))
    eps = rng.standard_normal((n, K))
    z = as_array("z", call(need(student, "reparameterize"), mu, logvar, eps), (n, K))
    # With 20000 draws the sample mean is within 4 standard errors, the variance within 5 %.
    for j in range(K):
        mean, var, target = z[:, j].mean(), z[:, j].var(), np.exp(logvar_row[j])
        if abs(mean - mu_row[j]) > 4 * np.sqrt(target / n):
            raise CheckFailure(f"z[:, {j}] has sample mean {mean:.4g}, expected mu = {mu_row[j]:g}")
        if abs(var / target - 1) > 0.05:
            message = (f"z[:, {j}] (logvar = {logvar_row[j]:g}) has sample variance {var:.4g}, "
                       f"expected exp(logvar) = {target:.4g}")
            if abs(var / target ** 2 - 1) <= 0.05:
                message += f"\n  hint: that is exp(2 logvar) = exp(logvar)^2: {VARIANCE_AS_STD}"
            raise CheckFailure(message)


@CHECKS("reparameterize_backward: dmu, the gradient with respect to mu", value=False, after=(DLOGVAR,))
def backward_dmu(student, rng):
    # value=False: dz handed back unchanged is the right dmu, so this counts with dlogvar.
    mu, logvar, eps = _inputs(rng)
    dz = rng.standard_normal((N, K))
    dmu, _ = _student_grads(student, dz, mu, logvar, eps)
    assert_close("dmu (gradient with respect to mu)", dmu, reparameterize_backward(dz, mu, logvar, eps)[0],
                 hint="how does z change when mu changes by a little? Then apply the chain rule with dz")


@CHECKS(DLOGVAR)
def backward_dlogvar(student, rng):
    mu, logvar, eps = _inputs(rng)
    dz = rng.standard_normal((N, K))
    _, dlogvar = _student_grads(student, dz, mu, logvar, eps)
    expected = reparameterize_backward(dz, mu, logvar, eps)[1]
    assert_close("dlogvar (gradient with respect to logvar)", dlogvar, expected,
                 context={"logvar": logvar, "eps": eps, "dz": dz},
                 mistakes={"the 1/2 of the chain rule is missing: sigma = exp(logvar / 2), and the inner "
                           "function logvar / 2 has derivative 1/2": 2 * expected,
                           "the derivative of the forward pass with exp(logvar) as sigma; sigma = "
                           "exp(logvar / 2)": dz * np.exp(logvar) * eps,
                           "dz is missing: multiply by the upstream gradient":
                               0.5 * np.exp(0.5 * logvar) * eps})


@CHECKS("reparameterize_backward agrees with finite differences", value=False, after=(FORWARD,))
def backward_numeric(student, rng):
    mu, logvar, eps = _inputs(rng)
    dz = rng.standard_normal((N, K))
    dmu, dlogvar = _student_grads(student, dz, mu, logvar, eps)
    value = need(student, "reparameterize")
    args = (mu, logvar, eps)
    for name, position, grad in (("dmu", 0, dmu), ("dlogvar", 1, dlogvar)):
        def losses(points, position=position):  # L = sum(z * dz)
            outs = value.map([args[:position] + (p,) + args[position + 1:] for p in points])
            return [float(np.sum(as_array("z", out, (N, K)) * dz)) for out in outs]

        assert_close(f"{name} (your backward against finite differences of your reparameterize)",
                     grad, finite_differences(losses, args[position]))
