"""Checks for exercise 13: a learned mixture-of-Gaussians prior, log p(z) and its gradients.

References: ``numvae.priors.MixturePrior`` with the grader's means, log-variances and
weight logits: ``log_prob`` for log p(z), ``log_prob_grad`` (upstream 1 for every z) for
the gradient with respect to z and, written into its ``grads``, those with respect to the
prior's own parameters. The classic mistakes are the same prior with other parameters
(log-variances doubled: logvar read as ln sigma) or computed here from the formulas of
the priors module's docstring with the weights pi in place of the responsibilities.
"""

from __future__ import annotations

import math

import numpy as np

from ...iwae import logsumexp
from ...params import ParamDict
from ...priors import MixturePrior
from ..compare import as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
M, K, C = 5, 2, 3
LOG_PROB = "mixture_log_prob: logsumexp_c [log pi_c + log N(z; m_c, diag exp(s_c))], pi = softmax(w)"
GRADIENTS = ("dz", "dmeans", "dlogvars", "dlogits")
STABILITY_HINT = ("a component's density underflows to 0 far from its mean (exp(-1000)), and exp(w) "
                  "overflows for large logits: stay in log space, log pi_c = w_c - logsumexp(w) and "
                  "log p(z) = logsumexp_c a_c, with the maximum subtracted")
LOGVAR_AS_LOG_STD = ("logvars were read as ln sigma: s_c = ln sigma_c^2 is the log-variance, so the variance "
                     "is exp(s_c) and the density's normalisation has -1/2 s_c")


def _inputs(rng, m: int = M):
    """z (m, K), means (C, K), logvars (C, K), logits (C,): the components overlap, so every
    responsibility matters, and the logits do not sum to 0, so their normalisation does."""
    means = 1.5 * rng.standard_normal((C, K))
    logvars = rng.uniform(-1.0, 1.0, (C, K))
    logits = rng.standard_normal(C) + rng.choice([-3.0, 3.0])
    z = means[rng.integers(0, C, m)] + rng.standard_normal((m, K))
    return z, means, logvars, logits


def _params(means, logvars, logits) -> ParamDict:
    return ParamDict.from_arrays({"prior.means": means, "prior.logvars": logvars, "prior.logits": logits})


def _log_prob(z, means, logvars, logits) -> np.ndarray:
    return MixturePrior(K, len(logits)).log_prob(_params(means, logvars, logits), z)


def _grads(z, means, logvars, logits) -> dict:
    """{'dz', 'dmeans', 'dlogvars', 'dlogits'} of sum_n log p(z_n), numvae's."""
    params = _params(means, logvars, logits)
    grads = params.zeros_like()
    dz = MixturePrior(K, len(logits)).log_prob_grad(params, z, np.ones(len(z)), grads)
    return {"dz": dz, "dmeans": grads["prior.means"].copy(), "dlogvars": grads["prior.logvars"].copy(),
            "dlogits": grads["prior.logits"].copy()}


def _pieces(z, means, logvars, logits):
    """log N(z_n; m_c, diag exp(s_c)) (M, C), pi (C,), responsibilities r (M, C)."""
    diff = z[:, None, :] - means[None]  # (M, C, K)
    log_n = -0.5 * np.sum(math.log(2 * math.pi) + logvars + diff ** 2 * np.exp(-logvars), axis=2)
    log_pi = logits - logsumexp(logits, axis=0)
    a = log_n + log_pi
    return log_n, np.exp(log_pi), np.exp(a - logsumexp(a, axis=1)[:, None])


def _grads_with(z, means, logvars, r) -> dict:
    """The gradients with the weights r (M, C) in place of the responsibilities (logits left out)."""
    diff = z[:, None, :] - means[None]  # (M, C, K)
    inv = np.exp(-logvars)[None]
    return {"dz": np.sum(r[:, :, None] * -diff * inv, axis=1),
            "dmeans": np.sum(r[:, :, None] * diff * inv, axis=0),
            "dlogvars": np.sum(r[:, :, None] * 0.5 * (diff ** 2 * inv - 1), axis=0)}


def _student_grads(student, z, means, logvars, logits):
    return unpack(call(need(student, "mixture_log_prob_grads"), z, means, logvars, logits), GRADIENTS,
                  "mixture_log_prob_grads(z, means, logvars, logits)")


# ----- log p(z) ------------------------------------------------------------------------------------

def _log_prob_mistakes(z, means, logvars, logits) -> dict:
    expected = _log_prob(z, means, logvars, logits)
    log_n, pi, _ = _pieces(z, means, logvars, logits)
    return {
        "the weights are not normalised: log pi_c = w_c - logsumexp(w), so that the pi_c are positive and "
        "sum to 1 (softmax)": logsumexp(log_n + logits, axis=1),
        "the weight logits were ignored (every pi_c = 1/C); pi = softmax(w)":
            logsumexp(log_n, axis=1) - math.log(C),
        LOGVAR_AS_LOG_STD: _log_prob(z, means, 2 * logvars, logits),
        f"the log(2 pi) constant of the Gaussian density is missing (K/2 log(2 pi) = "
        f"{K / 2 * math.log(2 * math.pi):.6g} per z)": expected + K / 2 * math.log(2 * math.pi),
        "received sum_c pi_c log N(z; m_c, ...), the mean of the log-densities: p(z) is the weighted sum "
        "of the densities, log p(z) = log sum_c pi_c N(z; m_c, ...)": np.sum(pi * log_n, axis=1),
        "received max_c a_c, the best component alone: log p(z) sums over all of them, logsumexp_c a_c":
            np.max(log_n + np.log(pi), axis=1),
    }


def _check_log_prob(student, z, means, logvars, logits, **hints) -> None:
    assert_close("mixture_log_prob(z, means, logvars, logits)",
                 call(need(student, "mixture_log_prob"), z, means, logvars, logits),
                 _log_prob(z, means, logvars, logits), mistakes=_log_prob_mistakes(z, means, logvars, logits),
                 shape_hint="one log-density per z: (M,), the components summed away", **hints)


@CHECKS(LOG_PROB)
def log_prob_value(student, rng):
    _check_log_prob(student, *_inputs(rng))


@CHECKS("mixture_log_prob is finite and exact far from every component and for large logits")
def log_prob_stable(student, rng):
    z, means, logvars, logits = _inputs(rng)
    z[: M // 2 + 1] += 40.0 * np.sign(rng.standard_normal((M // 2 + 1, K)))  # a_c near -1000 for these z
    _check_log_prob(student, z, means, logvars, logits + 800.0,  # exp(w) overflows; softmax(w) is the same
                    nonfinite_hint=STABILITY_HINT)


# ----- its gradients -------------------------------------------------------------------------------

def _mistakes(name, z, means, logvars, logits, expected):
    _, pi, _ = _pieces(z, means, logvars, logits)
    with_pi = _grads_with(z, means, logvars, np.broadcast_to(pi, (len(z), C)))
    doubled = _grads(z, means, 2 * logvars, logits)
    out = {
        "the weights pi_c were used where the responsibilities r_c = pi_c N(z; m_c, ...) / p(z) belong "
        "(the chain rule through logsumexp_c a_c gives softmax_c(a_c), which depends on z)":
            with_pi.get(name),
        LOGVAR_AS_LOG_STD: 2 * doubled[name] if name == "dlogvars" else doubled[name],
        f"you averaged over the M = {len(z)} codes z; log p of each adds to the sum, and so does its "
        "gradient": expected / len(z) if name != "dz" else None,
    }
    if name == "dlogvars":
        out["the factor 1/2 is missing: log N has -1/2 s_c and -1/2 (z - m)^2 exp(-s_c)"] = 2 * expected
        r = _pieces(z, means, logvars, logits)[2]
        out["the derivative of the normalisation -1/2 s_c is missing (each responsibility contributes "
            "-r_c / 2)"] = expected + 0.5 * r.sum(axis=0)[:, None]
    if name == "dlogits":
        out["the -pi_c term is missing: log pi_c = w_c - logsumexp(w) depends on every w_j, through "
            "logsumexp(w); its derivative is [c == j] - pi_j"] = expected + len(z) * pi
    return {text: answer for text, answer in out.items() if answer is not None}


SHAPES_OF = {"dz": "z, (M, K)", "dmeans": "means, (C, K)", "dlogvars": "logvars, (C, K)",
             "dlogits": "logits, (C,)"}


def _gradient_check(position: int, name: str, what: str) -> None:
    @CHECKS(f"mixture_log_prob_grads: {name}, the gradient with respect to {what}")
    def check(student, rng):
        z, means, logvars, logits = _inputs(rng)
        received = _student_grads(student, z, means, logvars, logits)[position]
        expected = _grads(z, means, logvars, logits)[name]
        assert_close(name, received, expected, mistakes=_mistakes(name, z, means, logvars, logits, expected),
                     shape_hint=f"{name} has the shape of {SHAPES_OF[name]}: sum over the M codes z "
                                "what each of them contributes" if name != "dz" else "dz has the shape of z")


_gradient_check(0, "dz", "z")
_gradient_check(1, "dmeans", "the means m_c")
_gradient_check(2, "dlogvars", "the log-variances s_c")
_gradient_check(3, "dlogits", "the weight logits w_c")


@CHECKS("mixture_log_prob_grads is finite and exact far from every component and for large logits")
def grads_stable(student, rng):
    z, means, logvars, logits = _inputs(rng)
    z[: M // 2 + 1] += 40.0 * np.sign(rng.standard_normal((M // 2 + 1, K)))
    logits = logits + 800.0
    received = _student_grads(student, z, means, logvars, logits)
    expected = _grads(z, means, logvars, logits)
    for name, value in zip(GRADIENTS, received, strict=True):
        assert_close(name, value, expected[name], nonfinite_hint=STABILITY_HINT + "; the responsibilities "
                     "r_c = exp(a_c - logsumexp_c a_c) stay finite where each exp(a_c) alone underflows")


@CHECKS("the gradients agree with finite differences of mixture_log_prob", value=False, after=(LOG_PROB,))
def numeric(student, rng):
    args = _inputs(rng)
    received = _student_grads(student, *args)
    value = need(student, "mixture_log_prob")
    for position, (name, grad) in enumerate(zip(GRADIENTS, received, strict=True)):
        def total(points, position=position):  # L = sum_n log p(z_n)
            outs = value.map([args[:position] + (p,) + args[position + 1:] for p in points])
            return [float(np.sum(as_array("mixture_log_prob(z, means, logvars, logits)", out, (M,))))
                    for out in outs]

        assert_close(f"{name} (your gradient against finite differences of your mixture_log_prob)",
                     grad, finite_differences(total, args[position]))
