"""Checks for exercise 12: the importance-weighted objective -L_k and its gradients.

References: -L_k = -1/N sum_n [logsumexp_i log w_in - log k] with ``numvae.logsumexp``;
its gradient with respect to log w, the normalised weights softmax_i(log w) of each
example's k draws over -N (as ``numvae.iwae.iwae_loss_and_grads`` forms it); and, for the
toy model of the skeleton, ``iwae_loss_and_grads`` itself: the model is a ``VAE`` whose
encoder's outputs mu and logvar are its parameters and whose decoder's logits are z (a
Bernoulli p(x|z) with D = K pixels), so the reference is numvae's own IWAE gradient.

The classic mistakes of the toy's gradients are computed here from their formulas: the
gradient of -sum_in c_in log w_in for other weights c (the ELBO's 1/(kN), weights not
divided by N) and with log q(z|x) differentiated along one of its two paths only.
"""

from __future__ import annotations

import math

import numpy as np

from ...iwae import iwae_loss_and_grads, logsumexp
from ...layers import sigmoid
from ...likelihoods import bernoulli_log_prob, gaussian_log_prob
from ...model_config import ModelConfig
from ...params import ParamDict
from ...vae import VAE
from ..compare import as_array, assert_close, call, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
SAMPLES, N, K = 3, 4, 2
LOSS = "iwae_loss: -1/N sum_n (logsumexp over the k draws - log k)"
GRAD = "iwae_loss_grad: d loss / d log_w"
TOY_LOSS = "toy_iwae_loss_and_grads: the loss -L_k of the toy model"
STABILITY_HINT = ("exp(-1000) underflows to 0 (and exp(1000) is inf): subtract each example's maximum "
                  "over its k draws before exp, as in exercise 9's log-sum-exp")


def _loss(log_w: np.ndarray) -> float:
    return -float(np.mean(logsumexp(log_w, axis=0) - math.log(log_w.shape[0])))


def _weights(log_w: np.ndarray, axis: int = 0) -> np.ndarray:
    """softmax of log_w along ``axis``: each example's normalised importance weights."""
    return np.exp(log_w - np.expand_dims(logsumexp(log_w, axis=axis), axis))


def _log_weights(rng, k: int = SAMPLES, n: int = N, low: float = -4.0, high: float = 2.0):
    return rng.uniform(low, high, (k, n))


# ----- -L_k from the log weights, and its gradient -------------------------------------------------

def _loss_mistakes(log_w: np.ndarray) -> dict:
    k, n = log_w.shape
    expected = _loss(log_w)
    return {
        f"received = expected - log k = expected - {math.log(k):.6g}: the - log k of L_k is missing "
        f"(k = {k}); L_k is the log of the *mean* of the weights": expected - math.log(k),
        "received -mean(log w), the -ELBO estimate: L_k is the log of the mean of the weights, not the "
        "mean of their logs": -float(np.mean(log_w)),
        f"you summed over the batch of N = {n}; the loss is the batch mean": n * expected,
        "received L_k; the loss is its negative, -L_k": -expected,
        "you reduced over the examples (axis 1); the k draws of each example are axis 0":
            -float(np.mean(logsumexp(log_w, axis=1) - math.log(k))),
    }


@CHECKS(LOSS)
def loss_value(student, rng):
    log_w = _log_weights(rng)
    assert_close("iwae_loss(log_w)", call(need(student, "iwae_loss"), log_w), _loss(log_w),
                 mistakes=_loss_mistakes(log_w),
                 shape_hint="a single number: the batch mean of -L_k over the N examples")


@CHECKS("iwae_loss is finite and exact for log weights near -1000, typical of images")
def loss_stable(student, rng):
    log_w = -1000.0 - rng.uniform(0.0, 5.0, (SAMPLES, N))
    assert_close("iwae_loss(log_w)", call(need(student, "iwae_loss"), log_w), _loss(log_w),
                 mistakes=_loss_mistakes(log_w), nonfinite_hint=STABILITY_HINT)


def _grad_mistakes(log_w: np.ndarray) -> dict:
    k, n = log_w.shape
    expected = -_weights(log_w) / n
    return {
        "the weights are normalised over the wrong axis: each example's k draws (axis 0) share its "
        "gradient, not the N examples of one draw": -_weights(log_w, axis=1) / n,
        f"you did not divide by N = {n}: the loss is a batch mean, so every example's gradient has "
        "weight 1/N": n * expected,
        "every draw got the same weight 1/k: that is the gradient of the ELBO estimate (the mean of "
        "the log weights), not of L_k": np.full_like(log_w, -1.0 / (k * n)),
        "the weights exp(log w) are not normalised: the derivative of log sum_i exp(a_i) divides by the "
        "sum": -np.exp(log_w) / n,
        "received the gradient of L_k; the loss is -L_k": -expected,
        f"you also divided by k = {k}; only the batch mean divides (by N)": expected / k,
    }


@CHECKS(GRAD)
def grad_value(student, rng):
    log_w = _log_weights(rng)
    assert_close("iwae_loss_grad(log_w)", call(need(student, "iwae_loss_grad"), log_w),
                 -_weights(log_w) / N, mistakes=_grad_mistakes(log_w), context={"log_w": log_w},
                 shape_hint="d loss / d log_w has the shape of log_w, (k, N)")


@CHECKS("iwae_loss_grad is finite and exact for log weights near -1000")
def grad_stable(student, rng):
    log_w = -1000.0 - rng.uniform(0.0, 5.0, (SAMPLES, N))
    log_w[0, 0] = -1000.0 - 60.0  # one draw e^60 times less likely than the others: its weight is tiny
    assert_close("iwae_loss_grad(log_w)", call(need(student, "iwae_loss_grad"), log_w),
                 -_weights(log_w) / N, mistakes=_grad_mistakes(log_w), context={"log_w": log_w},
                 nonfinite_hint=STABILITY_HINT + "; 0 / 0 is nan")


@CHECKS("iwae_loss_grad agrees with finite differences of iwae_loss", value=False, after=(LOSS,))
def grad_numeric(student, rng):
    log_w = _log_weights(rng)
    grad = call(need(student, "iwae_loss_grad"), log_w)
    loss = need(student, "iwae_loss")

    def losses(points):
        return [float(as_array("iwae_loss(log_w)", out, ())) for out in loss.map([(p,) for p in points])]

    assert_close("d loss / d log_w (your iwae_loss_grad against finite differences of your iwae_loss)",
                 grad, finite_differences(losses, log_w))


# ----- the toy model: the gradient through z = mu + sigma * eps --------------------------------------

class _Toy(VAE):
    """The skeleton's toy model as a numvae VAE: mu and logvar are parameters, the logits are z."""

    def encode_forward(self, params, x, y=None):
        return params["mu"], params["logvar"], None

    def encode_backward(self, dmu, dlogvar, cache, grads):
        grads["mu"][...] += dmu
        grads["logvar"][...] += dlogvar

    def decode_forward(self, params, z, y=None):
        return z, None

    def decode_backward(self, dlogits, cache, grads):
        return dlogits


def _toy_inputs(rng):
    k = int(rng.integers(2, 5))
    x = (rng.random((N, K)) < 0.5).astype(np.float64)
    return x, rng.standard_normal((N, K)), rng.uniform(-1.5, 1.0, (N, K)), rng.standard_normal((k, N, K))


def _toy_reference(x, mu, logvar, eps):
    """(loss, dmu, dlogvar) from numvae.iwae.iwae_loss_and_grads on the toy model."""
    toy = _Toy(ModelConfig(input_dim=K, hidden=(), latent=K, objective="iwae", k=eps.shape[0]))
    parts, grads = iwae_loss_and_grads(toy, ParamDict.from_arrays({"mu": mu, "logvar": logvar}), x, eps=eps)
    return parts.loss, grads["mu"].copy(), grads["logvar"].copy()


def _toy_log_w(x, mu, logvar, eps, *, std_as_exp_logvar=False, sign_q=-1.0, prior=True):
    """log w (k, N) of the toy model, or of a mistaken version of it."""
    k = eps.shape[0]
    sigma = np.exp(logvar) if std_as_exp_logvar else np.exp(0.5 * logvar)
    z = (mu + sigma * eps).reshape(k * N, K)
    x_k = np.broadcast_to(x, (k, N, K)).reshape(k * N, K)
    mu_k = np.broadcast_to(mu, (k, N, K)).reshape(k * N, K)
    var_logvar = 2 * logvar if std_as_exp_logvar else logvar
    log_q = gaussian_log_prob(z, mu_k, np.broadcast_to(var_logvar, (k, N, K)).reshape(k * N, K))
    log_p = gaussian_log_prob(z, np.zeros_like(z), 0.0) if prior else 0.0
    return (bernoulli_log_prob(x_k, z) + log_p + sign_q * log_q).reshape(k, N)


def _toy_grads(x, mu, logvar, eps, c, q_paths=("direct", "through z")):
    """d/dmu, d/dlogvar of -sum_in c_in log w_in, log q(z|x) differentiated along ``q_paths``."""
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps  # (k, N, K)
    dz = x - sigmoid(z) - z  # d/dz of log p(x|z) + log p(z)
    dmu_q, dlogvar_q = np.zeros_like(z), np.zeros_like(z)
    if "through z" in q_paths:  # d log q / dz = -(z - mu) / sigma^2 = -eps / sigma
        dz = dz + eps / sigma  # (log w has -log q)
    if "direct" in q_paths:  # d log q / dmu = eps / sigma, d log q / dlogvar = (eps^2 - 1) / 2
        dmu_q, dlogvar_q = -eps / sigma, -0.5 * (eps * eps - 1)
    dmu = dz + dmu_q
    dlogvar = dz * 0.5 * sigma * eps + dlogvar_q
    weight = -c[:, :, None]
    return np.sum(weight * dmu, axis=0), np.sum(weight * dlogvar, axis=0)


def _toy_student(student, x, mu, logvar, eps):
    return unpack(call(need(student, "toy_iwae_loss_and_grads"), x, mu, logvar, eps),
                  ("loss", "dmu", "dlogvar"), "toy_iwae_loss_and_grads(x, mu, logvar, eps)")


@CHECKS(TOY_LOSS)
def toy_loss(student, rng):
    x, mu, logvar, eps = _toy_inputs(rng)
    loss, _, _ = _toy_student(student, x, mu, logvar, eps)
    expected, _, _ = _toy_reference(x, mu, logvar, eps)
    log_w = _toy_log_w(x, mu, logvar, eps)
    assert_close("loss (-L_k)", loss, expected, mistakes={
        "log q(z|x) was added: the weight is p(x|z) p(z) / q(z|x), so log q is subtracted":
            _loss(_toy_log_w(x, mu, logvar, eps, sign_q=1.0)),
        "the prior's log p(z) is missing: the weight is p(x|z) p(z) / q(z|x)":
            _loss(_toy_log_w(x, mu, logvar, eps, prior=False)),
        "you used exp(logvar) as the standard deviation, but exp(logvar) = sigma^2 is the variance: "
        "sigma = exp(logvar / 2)": _loss(_toy_log_w(x, mu, logvar, eps, std_as_exp_logvar=True)),
        **_loss_mistakes(log_w),
    })


def _toy_gradient_check(name: str, position: int) -> None:
    @CHECKS(f"toy_iwae_loss_and_grads: {name}, the gradient with respect to {name[1:]}")
    def check(student, rng):
        x, mu, logvar, eps = _toy_inputs(rng)
        received = _toy_student(student, x, mu, logvar, eps)[position]
        expected = _toy_reference(x, mu, logvar, eps)[position]
        k = eps.shape[0]
        weights = _weights(_toy_log_w(x, mu, logvar, eps))
        right = weights / N
        pick = position - 1
        assert_close(name, received, expected, context={"mu": mu, "logvar": logvar}, mistakes={
            "every draw got the same weight 1/k: that is the gradient of the ELBO estimate; L_k weights "
            "draw i of example n by its normalised importance weight (your iwae_loss_grad)":
                _toy_grads(x, mu, logvar, eps, np.full_like(weights, 1.0 / (k * N)))[pick],
            f"you did not divide by N = {N}: the loss is a batch mean":
                _toy_grads(x, mu, logvar, eps, weights)[pick],
            "log q(z|x) was differentiated as a density of a fixed z only: z = mu + sigma * eps moves "
            "with mu and logvar too, and both paths add up":
                _toy_grads(x, mu, logvar, eps, right, q_paths=("direct",))[pick],
            "log q(z|x) was differentiated through z only: mu and logvar are also its parameters "
            "(its mean and its variance), and both paths add up":
                _toy_grads(x, mu, logvar, eps, right, q_paths=("through z",))[pick],
            f"you averaged over the k = {k} draws; each draw's weight already says how much it counts, "
            "and the draws' contributions add up": expected / k,
            **({"the derivative of log q's normalisation term -1/2 logvar is missing (log q(z|x) depends "
                "on logvar directly, not only through z)": expected + 0.5 / N} if name == "dlogvar" else {}),
        }, shape_hint=f"{name} has the shape of {name[1:]}, (N, K) = {(N, K)}: add up the k draws' "
                      "contributions")

    return check


_toy_gradient_check("dmu", 1)
_toy_gradient_check("dlogvar", 2)


@CHECKS("toy_iwae_loss_and_grads: dmu and dlogvar agree with finite differences of your loss", value=False,
        after=(TOY_LOSS,))
def toy_numeric(student, rng):
    x, mu, logvar, eps = _toy_inputs(rng)
    _, dmu, dlogvar = _toy_student(student, x, mu, logvar, eps)
    fn = need(student, "toy_iwae_loss_and_grads")
    args = (x, mu, logvar, eps)
    for name, position, grad in (("dmu", 1, dmu), ("dlogvar", 2, dlogvar)):
        def losses(points, position=position):
            outs = fn.map([args[:position] + (p,) + args[position + 1:] for p in points], pick=(0,))
            return [float(as_array("loss", out, ())) for out in outs]

        assert_close(f"{name} (your gradient against finite differences of your loss)",
                     grad, finite_differences(losses, args[position]))
