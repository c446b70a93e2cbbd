"""Checks for exercise 6: KL between two multivariate Gaussians, the general formula.

Reference: ``numvae.kl_mvn``; the special case N1 = N(0, I) with a diagonal S0 must give
``numvae.kl_standard_normal``, the formula of exercise 5.
"""

from __future__ import annotations

import numpy as np

from ...kl import kl_mvn, kl_standard_normal
from ..compare import assert_close, call, need
from . import CheckList

CHECKS = CheckList()
DIMS = (1, 2, 3, 4)
MVN_VALUE = "kl_mvn matches the closed form for k = 1, 2, 3, 4"


def _spd(rng, k):
    a = rng.standard_normal((k, k))
    return a @ a.T + 0.5 * np.eye(k)


def _pairs(rng):
    return [(rng.standard_normal(k), _spd(rng, k), rng.standard_normal(k), _spd(rng, k)) for k in DIMS]


def _logdet(cov):
    return np.linalg.slogdet(cov)[1]


@CHECKS(MVN_VALUE)
def mvn_value(student, rng):
    pairs = _pairs(rng)
    fn = need(student, "kl_mvn")
    received = [call(fn, *pair) for pair in pairs]
    for k, pair, value in zip(DIMS, pairs, received, strict=True):
        mu0, cov0, mu1, cov1 = pair
        expected = float(kl_mvn(*pair))
        assert_close(
            f"kl_mvn for a pair with k = {k}", value, expected,
            mistakes={
                "you computed KL(N1 || N0): the KL is not symmetric, its first argument is the "
                "distribution the expectation is taken under": float(kl_mvn(mu1, cov1, mu0, cov0)),
                "the -k is missing": expected + k / 2,
                "the log-determinant ratio is upside down: ln |S1| / |S0|, S1 of the second Gaussian":
                    expected - (_logdet(cov1) - _logdet(cov0)),
                "the factor 1/2 is missing": 2 * expected,
                "the inverse is on the wrong matrix: tr(S1^-1 S0), not tr(S0^-1 S1)":
                    expected + 0.5 * (np.trace(np.linalg.solve(cov0, cov1))
                                      - np.trace(np.linalg.solve(cov1, cov0))),
            })


@CHECKS("kl_mvn is 0 for two identical Gaussians", value=False, after=(MVN_VALUE,))
def mvn_zero(student, rng):
    fn = need(student, "kl_mvn")
    for k in DIMS:
        mu, cov = rng.standard_normal(k), _spd(rng, k)
        assert_close(f"kl_mvn(m, S, m, S) with k = {k}", call(fn, mu, cov, mu, cov), 0.0,
                     hint="KL(N0 || N0) = 1/2 [tr(I) + 0 - k + 0] = 0")


@CHECKS("against N(0, I) with diagonal S0 it is the formula of exercise 5")
def mvn_special_case(student, rng):
    fn = need(student, "kl_mvn")
    k = 3
    mu, logvar = rng.standard_normal(k), rng.uniform(-2.0, 2.0, k)
    expected = float(kl_standard_normal(mu[None], logvar[None])[0])
    assert_close("kl_mvn(mu, diag(exp(logvar)), 0, I)",
                 call(fn, mu, np.diag(np.exp(logvar)), np.zeros(k), np.eye(k)), expected)
