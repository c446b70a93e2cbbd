"""Checks for exercise 8: the -ELBO of a mini-batch and its gradients through a tiny VAE.

The reference is numvae's own model, ``VAE(ModelConfig(D, hidden=(H,), latent=K))`` with
the Bernoulli likelihood and the log-variance head: its ``loss_and_grads`` with the same
frozen eps. Parameter names are the model's. One check per parameter's gradient, then
one that compares the student's gradients with finite differences of the student's own
loss (all 2 x 110 perturbed losses in one round trip per parameter), which separates a
wrong loss from a wrong backward pass.
"""

from __future__ import annotations

import numpy as np

from ...model_config import ModelConfig
from ...params import ParamDict
from ...vae import VAE
from ..compare import CheckFailure, as_array, assert_close, call, describe, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, D, H, K = 4, 6, 5, 2
MODEL = VAE(ModelConfig(input_dim=D, hidden=(H,), latent=K))
SHAPES = MODEL.param_shapes()
LOSS = "loss = batch mean of (BCE summed over pixels + KL summed over dims)"
GRADIENTS = tuple(f"gradient of {name}" for name in SHAPES)


def _inputs(rng):
    """Parameters (plain dict of float64 arrays), binary images x (N, D), noise eps (N, K)."""
    params = MODEL.init_params(rng, dtype=np.float64)
    params.flat[...] *= 2.0  # larger than the default init, so every term matters
    x = (rng.random((N, D)) < 0.5).astype(np.float64)
    return {name: value.copy() for name, value in params.items()}, x, rng.standard_normal((N, K))


def _reference(params, x, eps):
    return MODEL.loss_and_grads(ParamDict.from_arrays(params), x, eps=eps)


def _student(student, params, x, eps):
    """The student's (loss, grads)."""
    result = call(need(student, "negative_elbo_and_grads"), params, x, eps)
    loss, grads = unpack(result, ("loss", "grads"), "negative_elbo_and_grads(params, x, eps)")
    if not isinstance(grads, dict):
        raise CheckFailure(f"grads must be a dict {{parameter name: gradient}}, received {describe(grads)}")
    return loss, grads


@CHECKS("returns (loss, grads), a gradient for every parameter in its shape", value=False,
        after=GRADIENTS, after_any=True)
def returns_grads(student, rng):
    params, x, eps = _inputs(rng)
    _, grads = _student(student, params, x, eps)
    missing = [n for n in SHAPES if n not in grads]
    extra = [str(n) for n in grads if n not in SHAPES]
    if missing or extra:
        raise CheckFailure("grads must have exactly the names of params"
                           + (f"; missing: {', '.join(missing)}" if missing else "")
                           + (f"; unexpected: {', '.join(extra)}" if extra else ""))
    for name, shape in SHAPES.items():
        as_array(f"grads[{name!r}]", grads[name], shape, shape_hint=f"the gradient of {name} has its shape")


@CHECKS(LOSS)
def loss_value(student, rng):
    params, x, eps = _inputs(rng)
    loss, _ = _student(student, params, x, eps)
    parts, _ = _reference(params, x, eps)
    assert_close("loss (-ELBO)", loss, parts.loss, mistakes={
        f"you averaged the reconstruction over the D = {D} pixels; the seed sums it over pixels "
        "(and averages only over the batch)": parts.recon / D + parts.kl,
        f"you summed over the batch of N = {N}; the loss is the batch mean": N * parts.loss,
        "the KL term is missing: -ELBO = reconstruction + KL": parts.recon,
        "the KL is subtracted: -ELBO = reconstruction + KL": parts.recon - parts.kl,
        f"you averaged the KL over the K = {K} latent dimensions; it sums over them":
            parts.recon + parts.kl / K,
        "received the ELBO; the loss is its negative": -parts.loss,
    })


def _gradient_check(name: str) -> None:
    @CHECKS(f"gradient of {name}")
    def check(student, rng):
        params, x, eps = _inputs(rng)
        _, grads = _student(student, params, x, eps)
        if name not in grads:
            raise CheckFailure(f"grads has no entry {name!r}")
        expected = _reference(params, x, eps)[1][name]
        assert_close(f"grads[{name!r}]", grads[name], expected,
                     mistakes={f"you summed over the batch of N = {N}; the loss (and so its gradient) "
                               "is a batch mean": N * expected},
                     shape_hint=f"the gradient of {name} has its shape {SHAPES[name]}")


for _name in SHAPES:
    _gradient_check(_name)


@CHECKS("your gradients agree with finite differences of your loss", value=False, after=(LOSS,))
def numeric(student, rng):
    params, x, eps = _inputs(rng)
    _, grads = _student(student, params, x, eps)
    fn = need(student, "negative_elbo_and_grads")
    for name in SHAPES:
        if name not in grads:
            raise CheckFailure(f"grads has no entry {name!r}")

        def losses(points, name=name):
            outs = fn.map([({**params, name: p}, x, eps) for p in points], pick=(0,))
            return [float(as_array("loss", out, ())) for out in outs]

        assert_close(f"grads[{name!r}] (your gradient against finite differences of your loss)",
                     grads[name], finite_differences(losses, params[name]))
