"""Checks for exercise 11: the conditional VAE, a label y appended to both networks' inputs.

References: ``numvae.model_config.with_label`` ([inputs, one_hot(y)]) and numvae's own
conditional model, ``CVAE(ModelConfig(D, hidden=(H,), latent=K, classes=C))``, whose
``loss_and_grads`` with the same frozen eps gives the loss and every gradient. Parameter
names are the model's. The classic mistakes are computed with the same model: a label
missing from one network is that network's label rows of W set to 0, a label put
before the inputs is those rows moved to the front.
"""

from __future__ import annotations

import numpy as np

from ...model_config import ModelConfig, with_label
from ...params import ParamDict
from ...vae import CVAE
from ..compare import CheckFailure, as_array, assert_close, call, describe, finite_differences, need, unpack
from . import CheckList

CHECKS = CheckList()
N, D, H, K, C = 4, 6, 4, 2, 3
MODEL = CVAE(ModelConfig(input_dim=D, hidden=(H,), latent=K, classes=C))
SHAPES = MODEL.param_shapes()
WITH_LABEL = "with_label: [inputs, one_hot(y)], the label's columns after the inputs'"
LOSS = "loss = batch mean of (BCE + KL), the label appended to the encoder's and the decoder's inputs"
LAYERS = {  # check name: the parameters it compares
    "gradients of enc.0, the encoder's first layer (its last C rows of W read the label)":
        ("enc.0.W", "enc.0.b"),
    "gradients of the encoder's heads enc.mu and enc.logvar":
        ("enc.mu.W", "enc.mu.b", "enc.logvar.W", "enc.logvar.b"),
    "gradients of dec.0, the decoder's first layer (its last C rows of W read the label)":
        ("dec.0.W", "dec.0.b"),
    "gradients of dec.out, the decoder's output layer": ("dec.out.W", "dec.out.b"),
}
LABEL_ROWS = {"enc.0.W": D, "dec.0.W": K}  # the first row of W that reads the one-hot label
SHAPE_HINT = (f"enc.0.W is (D + C, H) = {SHAPES['enc.0.W']}: the encoder reads [x, one_hot(y)]; "
              f"dec.0.W is (K + C, H) = {SHAPES['dec.0.W']}: the decoder reads [z, one_hot(y)]; the "
              "gradient of z is (N, K): the label's columns get none")


# ----- with_label and its backward ----------------------------------------------------------------

def _one_hot_inputs(rng):
    """inputs (N, M) and labels from a batch that lacks the last class (so its width shows)."""
    n, m, classes = int(rng.integers(4, 7)), int(rng.integers(2, 5)), int(rng.integers(4, 6))
    y = rng.integers(0, classes - 1, n)
    y[0] = classes - 2  # the largest label present is classes - 2: one_hot must still have `classes` columns
    return rng.standard_normal((n, m)), y, classes


@CHECKS(WITH_LABEL)
def with_label_value(student, rng):
    inputs, y, classes = _one_hot_inputs(rng)
    expected = with_label(inputs, y, classes)
    n, m = inputs.shape
    one_hot = expected[:, m:]
    received = call(need(student, "with_label"), inputs, y, classes)
    arr = np.asarray(received) if isinstance(received, np.ndarray) else None
    if arr is not None and arr.ndim == 2 and arr.shape[0] == n and arr.shape[1] != m + classes:
        width = arr.shape[1] - m
        why = {int(y.max()) + 1: f"the one-hot has max(y) + 1 = {int(y.max()) + 1} columns, but this batch "
                                  f"lacks class {classes - 1}: its width is the number of classes, "
                                  f"classes = {classes}, whatever labels the batch holds",
               1: "the label was appended as one number; append its one-hot vector, classes columns wide",
               0: "the label is missing"}.get(width, f"the label takes classes = {classes} columns")
        raise CheckFailure(f"with_label(inputs, y, classes={classes}): expected shape {(n, m + classes)}, "
                           f"received shape {arr.shape}\n  hint: {why}")
    assert_close(f"with_label(inputs, y, classes={classes})", received, expected, mistakes={
        "the one-hot label came first: [one_hot(y), inputs]; it goes after the inputs, [inputs, one_hot(y)]":
            np.concatenate([one_hot, inputs], axis=1),
        "the 1 is one column off: labels count from 0, so class y sets column y of the label's block "
        "(class 0 the first)": np.concatenate([inputs, np.roll(one_hot, 1, axis=1)], axis=1),
    })


@CHECKS("with_label_backward: the gradient with respect to inputs")
def with_label_backward_value(student, rng):
    inputs, y, classes = _one_hot_inputs(rng)
    n, m = inputs.shape
    dout = rng.standard_normal((n, m + classes))
    received = call(need(student, "with_label_backward"), dout, classes)
    assert_close(f"with_label_backward(dout, classes={classes})", received, dout[:, :m], mistakes={
        f"you dropped the first classes = {classes} columns; the label's columns are the last ones":
            dout[:, classes:],
    }, shape_hint=f"the gradient of inputs has inputs' shape (N, M) = {(n, m)}: the label is data, not a "
                  "parameter or an input of the layer below, so the gradient of its one-hot columns goes "
                  "nowhere; drop them")


# ----- the conditional VAE's -ELBO ------------------------------------------------------------------

def _inputs(rng):
    """Parameters (plain dict of float64 arrays), binary images x (N, D), labels y (N,), eps (N, K)."""
    params = MODEL.init_params(rng, dtype=np.float64)
    params.flat[...] *= 2.0  # larger than the default init, so every term matters
    x = (rng.random((N, D)) < 0.5).astype(np.float64)
    y = rng.permutation(np.concatenate([np.arange(C), rng.integers(0, C, N - C)]))  # every class appears
    return {name: value.copy() for name, value in params.items()}, x, y, rng.standard_normal((N, K))


def _reference(params, x, y, eps):
    return MODEL.loss_and_grads(ParamDict.from_arrays(params), x, y=y, eps=eps)


def _label_moved(params, names, how):
    """The parameters under which the right model computes what a mistaken one does."""
    moved = {name: value.copy() for name, value in params.items()}
    for name in names:
        start = LABEL_ROWS[name]
        if how == "missing":  # [inputs, 0]: the label's rows of W meet zeros
            moved[name][start:] = 0.0
        else:  # "first": [one_hot(y), inputs] @ W = [inputs, one_hot(y)] @ roll(W, -C)
            moved[name] = np.roll(moved[name], -C, axis=0)
    return moved


def _mistaken(params, x, y, eps):
    """{explanation: (loss, grads)} of the classic mistakes, grads in the student's parameters."""
    out = {}
    for names, how, text in (
            (("dec.0.W",), "missing", "the decoder does not see the label: append one_hot(y) to z too, "
                                      "p(x | z, y)"),
            (("enc.0.W",), "missing", "the encoder does not see the label: append one_hot(y) to x too, "
                                      "q(z | x, y)"),
            (("enc.0.W", "dec.0.W"), "missing", "neither network sees the label (its one-hot is all zeros)"),
            (("enc.0.W", "dec.0.W"), "first", "the one-hot label came first; it goes after the inputs, "
                                              "[x, one_hot(y)] and [z, one_hot(y)]")):
        parts, grads = _reference(_label_moved(params, names, how), x, y, eps)
        grads = {name: np.asarray(g).copy() for name, g in grads.items()}
        for name in names:
            if how == "first":
                grads[name] = np.roll(grads[name], C, axis=0)
            else:  # rows that meet zeros get no gradient
                grads[name][LABEL_ROWS[name]:] = 0.0
        out[text] = (parts.loss, grads)
    return out


def _student(student, params, x, y, eps):
    """The student's (loss, grads); a shape error in their code gets the hint about the label."""
    try:
        result = call(need(student, "negative_elbo_and_grads"), params, x, y, eps)
    except CheckFailure as failure:
        text = str(failure)
        if "raised ValueError" in text:  # mostly a shape: a label missing or a gradient sent into it
            raise CheckFailure(f"{text}\n  hint: {SHAPE_HINT}") from None
        raise
    loss, grads = unpack(result, ("loss", "grads"), "negative_elbo_and_grads(params, x, y, eps)")
    if not isinstance(grads, dict):
        raise CheckFailure(f"grads must be a dict {{parameter name: gradient}}, received {describe(grads)}")
    return loss, grads


@CHECKS("returns (loss, grads), a gradient for every parameter in its shape", value=False,
        after=tuple(LAYERS), after_any=True)
def returns_grads(student, rng):
    params, x, y, eps = _inputs(rng)
    _, grads = _student(student, params, x, y, eps)
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
    params, x, y, eps = _inputs(rng)
    loss, _ = _student(student, params, x, y, eps)
    parts, _ = _reference(params, x, y, eps)
    assert_close("loss (-ELBO)", loss, parts.loss, mistakes={
        **{text: mistaken_loss for text, (mistaken_loss, _) in _mistaken(params, x, y, eps).items()},
        f"you summed over the batch of N = {N}; the loss is the batch mean": N * parts.loss,
        "the KL term is missing: -ELBO = reconstruction + KL": parts.recon,
        "received the ELBO; the loss is its negative": -parts.loss,
    })


def _layer_check(check_name: str, names: tuple[str, ...]) -> None:
    @CHECKS(check_name)
    def check(student, rng):
        params, x, y, eps = _inputs(rng)
        _, grads = _student(student, params, x, y, eps)
        _, expected = _reference(params, x, y, eps)
        mistaken = _mistaken(params, x, y, eps)
        for name in names:
            if name not in grads:
                raise CheckFailure(f"grads has no entry {name!r}")
            assert_close(f"grads[{name!r}]", grads[name], expected[name], mistakes={
                **{text: g[name] for text, (_, g) in mistaken.items()},
                f"you summed over the batch of N = {N}; the loss (and so its gradient) is a batch mean":
                    N * expected[name],
            }, shape_hint=f"the gradient of {name} has its shape {SHAPES[name]}"
                          + (f"; {SHAPE_HINT}" if name in LABEL_ROWS else ""))


for _check_name, _names in LAYERS.items():
    _layer_check(_check_name, _names)


@CHECKS("your gradients agree with finite differences of your loss", value=False, after=(LOSS,))
def numeric(student, rng):
    params, x, y, eps = _inputs(rng)
    _, grads = _student(student, params, x, y, eps)
    fn = need(student, "negative_elbo_and_grads")
    for name in SHAPES:
        if name not in grads:
            raise CheckFailure(f"grads has no entry {name!r}")

        def losses(points, name=name):
            outs = fn.map([({**params, name: p}, x, y, eps) for p in points], pick=(0,))
            return [float(as_array("loss", out, ())) for out in outs]

        assert_close(f"grads[{name!r}] (your gradient against finite differences of your loss)",
                     grads[name], finite_differences(losses, params[name]))
