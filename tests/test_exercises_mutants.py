"""Classic wrong answers are caught by the right check, with a message that points at them;
code that loops, exits or crashes costs failed checks, never the grader.

Each mutant is a reference solution with one function (or one line) replaced the way a
student gets it wrong. The test asserts exactly which checks fail, so a mutant is caught
by the check meant for it and does not drag unrelated checks down.
"""

import ast
import dataclasses
import re
import textwrap
import time
from pathlib import Path

import pytest

from numvae.exercises import get_exercise, run_exercise

SOLUTIONS = Path(__file__).parent / "exercise_solutions"


def replace_function(source: str, name: str, new: str) -> str:
    """``source`` with the top-level function ``name`` replaced by the code ``new``."""
    tree = ast.parse(source)
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])  # decorators go too
    lines = source.splitlines(keepends=True)
    return "".join(lines[:first - 1]) + textwrap.dedent(new).strip() + "\n" + "".join(lines[fn.end_lineno:])


def replace_once(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"{old!r} must occur exactly once"
    return source.replace(old, new)


def grade(tmp_path, exercise_name: str, source: str, timeout: float = 10.0) -> dict:
    """{check name: (passed, message)} for ``source`` as the student's file."""
    exercise = get_exercise(exercise_name)
    (tmp_path / exercise.file).write_text(source)
    return {r.check: (r.passed, r.message) for r in run_exercise(tmp_path, exercise, timeout=timeout)}


def reference(exercise_name: str) -> str:
    return (SOLUTIONS / get_exercise(exercise_name).file).read_text()


# (exercise, function, wrong code, {check that must fail: text its message must contain})
MUTANTS = {
    "sampling with exp(logvar) instead of exp(logvar / 2)": ("reparameterize", "reparameterize", """
        def reparameterize(mu, logvar, eps):
            return mu + np.exp(logvar) * eps
        """, {"reparameterize: z = mu + exp(logvar / 2) * eps": "exp(logvar) = sigma^2 is the variance",
              "samples z have mean mu and variance exp(logvar)": "used exp(logvar) as the standard deviation",
              "reparameterize_backward agrees with finite differences": "dlogvar"}),
    "mean instead of sum over pixels": ("bce", "bce_with_logits", """
        def bce_with_logits(x, logits):
            return np.mean(nv.softplus(logits) - x * logits, axis=1)
        """, {"bce_with_logits: sum_d softplus(l) - x l, one value per example": "averaged over the D = 8",
              "bce_with_logits_grad agrees with finite differences": "received = 8 x expected"}),
    "the KL missing its -1": ("kl_standard_normal", "kl_standard_normal", """
        def kl_standard_normal(mu, logvar):
            return 0.5 * np.sum(mu * mu + np.exp(logvar) - logvar, axis=1)
        """, {"kl_standard_normal: 1/2 sum_j (mu^2 + exp(logvar) - logvar - 1)": "the -1 inside the sum is",
              "kl_standard_normal is 0 when q = N(0, I)": "the -1 inside the sum is missing",
              # the gradients are right for this KL, but consistency counts once the value is right
              "the gradients agree with finite differences of kl_standard_normal": "not counted"}),
    "the KL gradient with the wrong sign": ("kl_standard_normal", "kl_standard_normal_grad", """
        def kl_standard_normal_grad(mu, logvar):
            return -mu, -0.5 * np.expm1(logvar)
        """, {"kl_standard_normal_grad: dmu, the gradient with respect to mu": "the sign is flipped",
              "kl_standard_normal_grad: dlogvar, the gradient with respect to logvar": "the sign is flipped",
              "the gradients agree with finite differences of kl_standard_normal": "the sign is flipped"}),
    "x - sigmoid(l) instead of sigmoid(l) - x": ("bce", "bce_with_logits_grad", """
        def bce_with_logits_grad(x, logits):
            return x - nv.sigmoid(logits)
        """, {"bce_with_logits_grad: the gradient with respect to the logits":
              "received x - sigmoid(l), the gradient of",
              "bce_with_logits_grad agrees with finite differences": "the sign is flipped",
              "bce_with_logits_grad is finite and exact for large |logits|": "the sign is flipped"}),
    "a forgotten bias gradient": ("linear_relu", "linear_backward", """
        def linear_backward(dout, cache):
            x, W = cache
            return dout @ W.T, x.T @ dout, np.zeros(dout.shape[1])
        """, {"linear_backward: db, the gradient with respect to b": "the bias gradient is missing",
              "linear_backward agrees with finite differences of linear_forward":
              "db (your linear_backward"}),
    "forward differences with a large h": ("numerical_gradient", "numerical_gradient", """
        def numerical_gradient(f, x, h=1e-2):
            grad = np.zeros_like(x)
            flat, g = x.reshape(-1), grad.reshape(-1)
            fx = f(x)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + h
                g[i] = (f(x) - fx) / h
                flat[i] = old
            return grad
        """, {"exact on a quadratic f(x) = sum(a x^2 + b x)": "O(h) error of a forward difference",
              "accurate to 1e-6 on f(x) = sum(sin(x) exp(x / 2))": "one-sided difference or a large step h",
              "uses the step h it is given": "a forward difference",
              # zeros pass these two as well, so they count once the values are right
              "returns an array shaped like x": "not counted",
              "leaves x unchanged": "not counted"}),
    "log(sigmoid(l)) computed naively": ("bce", "bce_with_logits", """
        def bce_with_logits(x, logits):
            s = 1 / (1 + np.exp(-logits))
            return -np.sum(x * np.log(s) + (1 - x) * np.log(1 - s), axis=1)
        """, {"bce_with_logits is finite and exact for large |logits| (up to 1e4)":
              re.compile(r"expected \S+, received inf \(where logits\[\d+\] = \S+, x\[\d+\] = [01]\)")}),
    "iwae_estimate without its - log k": ("iwae", "iwae_estimate", """
        def iwae_estimate(log_w):
            return logsumexp(log_w, axis=0)
        """, {"iwae_estimate: logsumexp over the k samples minus log k": "the - log k is missing (k = 3)",
              "iwae_estimate is finite for log weights near -1000, typical of images":
              "the - log k is missing (k = 3)",
              # right for k = 1 (log 1 = 0), but it counts only once the k > 1 check passes
              "iwae_estimate with k = 1 is the log weight itself (the ELBO estimate)": "not counted"}),
    "an epsilon inside the log": ("bce", "bce_with_logits", """
        def bce_with_logits(x, logits):
            s = 1 / (1 + np.exp(-logits))
            return -np.sum(x * np.log(s + 1e-7) + (1 - x) * np.log(1 - s + 1e-7), axis=1)
        """, {"bce_with_logits is finite and exact for large |logits| (up to 1e4)": "softplus(l) = max(l, 0)",
              "bce_with_logits: sum_d softplus(l) - x l, one value per example": "relative error",
              "bce_with_logits_grad agrees with finite differences": "your gradient against finite diff"}),
}


# ----- the next chapter's exercises (11 to 14) ------------------------------------------------------
CVAE_LOSS = "loss = batch mean of (BCE + KL), the label appended to the encoder's and the decoder's inputs"
CVAE_LAYERS = ("gradients of enc.0, the encoder's first layer (its last C rows of W read the label)",
               "gradients of the encoder's heads enc.mu and enc.logvar",
               "gradients of dec.0, the decoder's first layer (its last C rows of W read the label)",
               "gradients of dec.out, the decoder's output layer")
CVAE_ALL = (CVAE_LOSS, *CVAE_LAYERS, "returns (loss, grads), a gradient for every parameter in its shape",
            "your gradients agree with finite differences of your loss")
WITH_LABEL_BACKWARD = "with_label_backward: the gradient with respect to inputs"
LABEL_SHAPES = "the decoder reads [z, one_hot(y)]; the gradient of z is (N, K): the label's columns get none"
IW_LOSS = "iwae_loss: -1/N sum_n (logsumexp over the k draws - log k)"
IW_LOSS_STABLE = "iwae_loss is finite and exact for log weights near -1000, typical of images"
IW_GRAD = "iwae_loss_grad: d loss / d log_w"
IW_GRAD_STABLE = "iwae_loss_grad is finite and exact for log weights near -1000"
IW_GRAD_NUMERIC = "iwae_loss_grad agrees with finite differences of iwae_loss"
TOY_LOSS = "toy_iwae_loss_and_grads: the loss -L_k of the toy model"
TOY_DMU = "toy_iwae_loss_and_grads: dmu, the gradient with respect to mu"
TOY_DLOGVAR = "toy_iwae_loss_and_grads: dlogvar, the gradient with respect to logvar"
TOY_NUMERIC = "toy_iwae_loss_and_grads: dmu and dlogvar agree with finite differences of your loss"
MIX_LOG_PROB = "mixture_log_prob: logsumexp_c [log pi_c + log N(z; m_c, diag exp(s_c))], pi = softmax(w)"
MIX_LOG_PROB_STABLE = "mixture_log_prob is finite and exact far from every component and for large logits"
MIX_GRADS = {name: f"mixture_log_prob_grads: {name}, the gradient with respect to {what}" for name, what in (
    ("dz", "z"), ("dmeans", "the means m_c"), ("dlogvars", "the log-variances s_c"),
    ("dlogits", "the weight logits w_c"))}
MIX_GRADS_STABLE = "mixture_log_prob_grads is finite and exact far from every component and for large logits"
LOG_STD = "logvars were read as ln sigma"
MIX_NUMERIC = "the gradients agree with finite differences of mixture_log_prob"
CONV_FORWARDS = ("conv2d_forward, stride 1 and no padding: out = b + sum over (c, u, v) of W * the window",
                 "conv2d_forward with zero padding", "conv2d_forward with a stride (and padding)")
CONV_NUMERIC = "conv2d_backward agrees with finite differences of conv2d_forward"
NOT_COUNTED = "not counted"

MUTANTS.update({
    "a one-hot as wide as the batch's largest label": ("conditional", "with_label", """
        def with_label(inputs, y, classes):
            one_hot = np.zeros((inputs.shape[0], int(y.max()) + 1))
            one_hot[np.arange(inputs.shape[0]), y] = 1.0
            return np.concatenate([inputs, one_hot], axis=1)
        """, {"with_label: [inputs, one_hot(y)], the label's columns after the inputs'":
              "its width is the number of classes"}),
    "the gradient sent into the label": ("conditional", "with_label_backward", """
        def with_label_backward(dout, classes):
            return dout
        """, {WITH_LABEL_BACKWARD: "the gradient of its one-hot columns goes nowhere",
              **{name: LABEL_SHAPES for name in CVAE_ALL}}),
    "the label's columns dropped from the front": ("conditional", "with_label_backward", """
        def with_label_backward(dout, classes):
            return dout[:, classes:]
        """, {WITH_LABEL_BACKWARD: "the label's columns are the last ones",
              CVAE_LAYERS[0]: "relative error", CVAE_LAYERS[1]: "relative error",
              "your gradients agree with finite differences of your loss": "relative error"}),
    "iwae_loss without its log k": ("iwae_objective", "iwae_loss", """
        def iwae_loss(log_w):
            return -float(np.mean(_logsumexp(log_w, axis=0)))
        """, {IW_LOSS: "the - log k of L_k is missing", IW_LOSS_STABLE: "the - log k of L_k is missing",
              TOY_LOSS: "the - log k of L_k is missing", IW_GRAD_NUMERIC: NOT_COUNTED,
              TOY_NUMERIC: NOT_COUNTED}),
    "the ELBO's equal weights instead of the normalised ones": ("iwae_objective", "iwae_loss_grad", """
        def iwae_loss_grad(log_w):
            return np.full(log_w.shape, -1.0 / log_w.size)
        """, {IW_GRAD: "the gradient of the ELBO estimate", IW_GRAD_STABLE: "the ELBO estimate",
              TOY_DMU: "every draw got the same weight 1/k", TOY_DLOGVAR: "the same weight 1/k",
              IW_GRAD_NUMERIC: "relative error", TOY_NUMERIC: "relative error"}),
    "the weights normalised over the examples": ("iwae_objective", "iwae_loss_grad", """
        def iwae_loss_grad(log_w):
            return -np.exp(log_w - _logsumexp(log_w, axis=1)[None, :].T) / log_w.shape[1]
        """, {IW_GRAD: "normalised over the wrong axis", IW_GRAD_STABLE: "normalised over the wrong axis",
              TOY_DMU: "relative error", TOY_DLOGVAR: "relative error", IW_GRAD_NUMERIC: "relative error",
              TOY_NUMERIC: "relative error"}),
    "the weights exp(log w) normalised without the maximum": ("iwae_objective", "iwae_loss_grad", """
        def iwae_loss_grad(log_w):
            return -np.exp(log_w) / np.exp(log_w).sum(axis=0) / log_w.shape[1]
        """, {IW_GRAD_STABLE: "0 / 0 is nan"}),
    "the mixture's weights not normalised": ("mixture_prior", "_components", """
        def _components(z, means, logvars, logits):
            diff = z[:, None, :] - means[None, :, :]
            inv_var = np.exp(-logvars)[None]
            log_n = -0.5 * np.sum(LOG_2PI + logvars[None] + diff ** 2 * inv_var, axis=2)
            return log_n + logits, diff, inv_var, logits
        """, {MIX_LOG_PROB: "the weights are not normalised", MIX_LOG_PROB_STABLE: "are not normalised",
              MIX_GRADS["dlogits"]: "relative error", MIX_GRADS_STABLE: "dlogits",
              MIX_NUMERIC: "dlogits (your gradient"}),
    "the weights' gradient without its -pi_c": ("mixture_prior", "mixture_log_prob_grads", """
        def mixture_log_prob_grads(z, means, logvars, logits):
            a, diff, inv_var, log_pi = _components(z, means, logvars, logits)
            r = np.exp(a - _logsumexp(a, axis=1)[:, None])[:, :, None]
            return (-np.sum(r * diff * inv_var, axis=1), np.sum(r * diff * inv_var, axis=0),
                    0.5 * np.sum(r * (diff ** 2 * inv_var - 1.0), axis=0), r[:, :, 0].sum(axis=0))
        """, {MIX_GRADS["dlogits"]: "the -pi_c term is missing", MIX_GRADS_STABLE: "dlogits",
              MIX_NUMERIC: "dlogits (your gradient"}),
    "the mixture's log-variances read as log-std": ("mixture_prior", "_components", """
        def _components(z, means, logvars, logits):
            diff = z[:, None, :] - means[None, :, :]
            inv_var = np.exp(-2 * logvars)[None]
            log_pi = logits - _logsumexp(logits, axis=0)
            log_n = -0.5 * np.sum(LOG_2PI + 2 * logvars[None] + diff ** 2 * inv_var, axis=2)
            return log_n + log_pi, diff, inv_var, log_pi
        """, {MIX_LOG_PROB: LOG_STD, MIX_LOG_PROB_STABLE: LOG_STD, MIX_GRADS["dz"]: LOG_STD,
              MIX_GRADS["dmeans"]: LOG_STD, MIX_GRADS["dlogits"]: LOG_STD, MIX_GRADS_STABLE: "relative error",
              MIX_GRADS["dlogvars"]: "relative error", MIX_NUMERIC: "dlogvars (your gradient"}),
    "the mixture's log p(z) without log-sum-exp": ("mixture_prior", "mixture_log_prob", """
        def mixture_log_prob(z, means, logvars, logits):
            a, _, _, _ = _components(z, means, logvars, logits)
            return np.log(np.sum(np.exp(a), axis=1))
        """, {MIX_LOG_PROB_STABLE: re.compile(r"received -inf; \d of 5 entries are not finite\n  hint: a "
                                              r"component's density underflows")}),
    "a flipped kernel": ("conv2d", "conv2d_forward", """
        def conv2d_forward(x, W, b, stride=1, padding=0):
            x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            windows = _windows(x_pad, W.shape[2], W.shape[3], stride)
            out = np.einsum("ncijuv,ocuv->noij", windows, W[:, :, ::-1, ::-1]) + b[None, :, None, None]
            return out, (x, W, stride, padding)
        """, {**{name: "the kernel is flipped" for name in CONV_FORWARDS}, CONV_NUMERIC: "dx (your conv2d"}),
    "padding ignored": ("conv2d", "conv2d_forward", """
        def conv2d_forward(x, W, b, stride=1, padding=0):
            windows = _windows(x, W.shape[2], W.shape[3], stride)
            out = np.einsum("ncijuv,ocuv->noij", windows, W) + b[None, :, None, None]
            return out, (x, W, stride, padding)
        """, {CONV_FORWARDS[1]: "the padding was ignored; out is (N, C_out, OH, OW) = (2, 3, 5, 6)",
              CONV_FORWARDS[2]: "the padding was ignored", CONV_NUMERIC: "out: expected shape"}),
})

LINE_MUTANTS = {  # (exercise, line, wrong line, {check that must fail: text its message must contain})
    "the label appended to the encoder only": (
        "conditional", 'nv.linear_forward(with_label(z, y, classes), p["dec.0.W"], p["dec.0.b"])',
        'nv.linear_forward(z, p["dec.0.W"], p["dec.0.b"])', {name: LABEL_SHAPES for name in CVAE_ALL}),
    "the CVAE's loss summed over the batch": (
        "conditional", "loss = float(np.mean(recon + kl))", "loss = float(np.sum(recon + kl))",
        {CVAE_LOSS: "you summed over the batch of N = 4",
         "your gradients agree with finite differences of your loss": "received = 0.25 x expected"}),
    "log q's normalisation left out of dlogvar": (
        "iwae_objective", "dlogvar = np.sum(dz * 0.5 * sigma * eps + dlog_w * 0.5, axis=0)",
        "dlogvar = np.sum(dz * 0.5 * sigma * eps, axis=0)",
        {TOY_DLOGVAR: "the derivative of log q's normalisation term -1/2 logvar is missing",
         TOY_NUMERIC: "dlogvar (your gradient"}),
    "log q added to the log weight": (
        "iwae_objective", "log_w = log_px + log_pz - log_qz", "log_w = log_px + log_pz + log_qz",
        {TOY_LOSS: "log q(z|x) was added", TOY_DMU: "relative error", TOY_DLOGVAR: "relative error",
         TOY_NUMERIC: "relative error"}),
    "the mixture's dlogvars without the -1": (
        "mixture_prior", "dlogvars = 0.5 * np.sum(r * (diff ** 2 * inv_var - 1.0), axis=0)",
        "dlogvars = 0.5 * np.sum(r * diff ** 2 * inv_var, axis=0)",
        {MIX_GRADS["dlogvars"]: "the derivative of the normalisation -1/2 s_c is missing",
         MIX_GRADS_STABLE: "dlogvars", MIX_NUMERIC: "dlogvars (your gradient"}),
    "overlapping windows' gradients overwritten": (
        "conv2d", "v:v + stride * ow:stride] += dwindows", "v:v + stride * ow:stride] = dwindows",
        {"conv2d_backward: dx, the gradient with respect to x": "their gradients overwrote each other",
         CONV_NUMERIC: "dx (your conv2d_backward"}),
    "db not summed over the examples": (
        "conv2d", "db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(2, 3))",
        {"conv2d_backward: db, the gradient with respect to b": "summed over the pixels i, j but not over "
         "the N examples", CONV_NUMERIC: "db (your conv2d_backward"}),
    "dW's channel axes swapped": (
        "conv2d", 'dW = np.einsum("noij,ncijuv->ocuv", dout, windows)',
        'dW = np.einsum("noij,ncijuv->couv", dout, windows)',
        {"conv2d_backward: dW, the gradient with respect to W": "channel axes are swapped",
         CONV_NUMERIC: "dW (your conv2d_backward"}),
}


def _assert_caught(results, expected, mutant):
    failed = {name for name, (passed, _) in results.items() if not passed}
    assert failed == set(expected), f"{mutant}: failed {sorted(failed)}"
    for name, fragment in expected.items():
        message = results[name][1]
        assert (fragment.search(message) if isinstance(fragment, re.Pattern) else fragment in message), \
            f"{name}: {message}"


@pytest.mark.parametrize("mutant", LINE_MUTANTS, ids=list(LINE_MUTANTS))
def test_classic_mistake_in_one_line_is_caught_by_its_check(tmp_path, mutant):
    exercise, line, wrong, expected = LINE_MUTANTS[mutant]
    results = grade(tmp_path, exercise, replace_once(reference(exercise), line, wrong))
    _assert_caught(results, expected, mutant)

@pytest.mark.parametrize("mutant", MUTANTS, ids=list(MUTANTS))
def test_classic_mistake_is_caught_by_its_check(tmp_path, mutant):
    exercise, function, code, expected = MUTANTS[mutant]
    results = grade(tmp_path, exercise, replace_function(reference(exercise), function, code))
    failed = {name for name, (passed, _) in results.items() if not passed}
    assert failed == set(expected), f"{mutant}: failed {sorted(failed)}"
    for name, fragment in expected.items():
        message = results[name][1]
        assert (fragment.search(message) if isinstance(fragment, re.Pattern) else fragment in message), \
            f"{name}: {message}"
        if name.startswith("iwae"):  # an offset, never "a constant factor" or an overflow
            assert "constant factor" not in message and "overflow" not in message, message


def test_elbo_averaged_over_pixels_is_caught_and_told_apart_from_the_gradients(tmp_path):
    source = replace_once(reference("elbo"), "recon = -nv.bernoulli_log_prob(x, logits)",
                          "recon = -nv.bernoulli_log_prob(x, logits) / x.shape[1]")
    results = grade(tmp_path, "elbo", source)
    failed = {name for name, (passed, _) in results.items() if not passed}
    # the backward pass still differentiates the summed loss: right gradients, wrong loss
    assert failed == {"loss = batch mean of (BCE summed over pixels + KL summed over dims)",
                      "your gradients agree with finite differences of your loss"}
    assert "averaged the reconstruction over the D = 6 pixels" in results[
        "loss = batch mean of (BCE summed over pixels + KL summed over dims)"][1]


def test_elbo_kl_gradient_missing_is_pinned_on_the_encoder_heads(tmp_path):
    source = replace_once(reference("elbo"), "linear_backward(dmu + dmu_kl, mu_cache)",
                          "linear_backward(dmu, mu_cache)")
    results = grade(tmp_path, "elbo", source)
    failed = {name for name, (passed, _) in results.items() if not passed}
    assert {"gradient of enc.mu.W", "gradient of enc.mu.b", "gradient of enc.0.W", "gradient of enc.0.b",
            "your gradients agree with finite differences of your loss"} == failed


def test_property_tests_that_miss_a_broken_kl_are_told_which(tmp_path):
    source = reference("kl_properties")
    for test in ("test_kl_adds_up_over_independent_dimensions",
                 "test_kl_is_the_general_formula_for_a_diagonal_covariance"):
        source = replace_function(source, test, "")
    results = grade(tmp_path, "kl_properties", source)
    missed = {name: message for name, (passed, message) in results.items() if not passed}
    assert set(missed) == {"catch a KL that averages over the latent dimensions instead of summing",
                           "catch a KL that reads logvar as ln sigma instead of ln sigma^2",
                           "catch a KL that forgets the factor 1/2",
                           "catch a KL that ignores the mean mu"}
    assert "independent dimensions add up" in missed[
        "catch a KL that averages over the latent dimensions instead of summing"]


def test_property_tests_that_fail_on_the_correct_kl_score_nothing(tmp_path):
    source = reference("kl_properties") + textwrap.dedent("""

        def test_wrong(kl):
            assert kl(np.zeros((1, 1)), np.zeros((1, 1)))[0] == 1
        """)
    results = grade(tmp_path, "kl_properties", source)
    assert not any(passed for passed, _ in results.values())
    passes = results["your tests pass on the correct KL"][1]
    expected = "test_wrong failed on the correct KL (numvae.kl_standard_normal): AssertionError"
    assert passes.startswith(expected)
    assert all(m.startswith("not counted") for name, (_, m) in results.items() if name.startswith("catch"))


def test_comparing_with_numvae_kl_fails_with_a_plain_message(tmp_path):
    source = reference("kl_properties").split("\n\n@given", 1)[0] + textwrap.dedent("""

        @given(q=gaussians())
        def test_same_as_numvae(kl, q):
            np.testing.assert_allclose(kl(*q), nv.kl_standard_normal(*q))
        """)
    results = grade(tmp_path, "kl_properties", source)
    assert not any(passed for passed, _ in results.values())
    assert results["your tests pass on the correct KL"][1] == (
        "test_same_as_numvae calls numvae's own kl_standard_normal: write it yourself")


# ----- code that does not return: the grader survives and reports it ---------------------------

def test_an_endless_loop_fails_only_the_checks_that_call_it(tmp_path):
    source = replace_function(reference("kl_standard_normal"), "kl_standard_normal_grad", """
        def kl_standard_normal_grad(mu, logvar):
            while True:
                pass
        """)
    started = time.monotonic()
    results = grade(tmp_path, "kl_standard_normal", source, timeout=1.5)
    assert time.monotonic() - started < 30
    failed = {name: message for name, (passed, message) in results.items() if not passed}
    assert set(failed) == {"kl_standard_normal_grad: dmu, the gradient with respect to mu",
                           "kl_standard_normal_grad: dlogvar, the gradient with respect to logvar",
                           "the gradients agree with finite differences of kl_standard_normal"}
    assert all(m.startswith("did not finish within 1.5 s") for m in failed.values())


def test_an_endless_loop_at_import_fails_every_check(tmp_path):
    results = grade(tmp_path, "kl_mvn", "while True:\n    pass\n", timeout=1.5)
    assert len(results) == 3
    message = "importing ex06_kl_mvn.py: did not finish within 1.5 s"
    assert all(not passed and message in m for passed, m in results.values())


def test_sys_exit_in_a_function_fails_its_checks_and_the_rest_run(tmp_path):
    source = replace_function(reference("linear_relu"), "relu_forward", """
        def relu_forward(x):
            raise SystemExit(3)
        """)
    results = grade(tmp_path, "linear_relu", source)
    failed = {name: message for name, (passed, message) in results.items() if not passed}
    assert len(failed) == 3 and all(name.startswith("relu") for name in failed)
    assert all(m.startswith("called sys.exit(3)") for m in failed.values())


@pytest.mark.parametrize("source, fragment", [
    ("import sys\nsys.exit(0)\n", "importing ex06_kl_mvn.py called sys.exit(0)"),
    ("import numpy_typo\n", "importing ex06_kl_mvn.py raised ModuleNotFoundError (line 1): No module named"),
    ("def kl_mvn(mu0, cov0, mu1, cov1)\n    return 0\n", "ex06_kl_mvn.py has a syntax error on line 1"),
    ("import os\nos._exit(7)\n", "importing ex06_kl_mvn.py: the grading process ended with status 7"),
])
def test_a_file_that_cannot_be_imported_fails_every_check_with_the_reason(tmp_path, source, fragment):
    results = grade(tmp_path, "kl_mvn", source)
    assert len(results) == 3 and all(not p and fragment in m for p, m in results.values()), results


def test_a_crash_inside_a_check_is_reported_and_the_rest_run(tmp_path):
    source = reference("kl_mvn").replace("def kl_mvn(", "def right_kl_mvn(") + textwrap.dedent("""

        def kl_mvn(mu0, cov0, mu1, cov1):
            import os
            print("debugging output", flush=True)
            if len(mu0) == 3:
                os._exit(9)
            return right_kl_mvn(mu0, cov0, mu1, cov1)
        """)
    results = grade(tmp_path, "kl_mvn", source)
    messages = [m for _, m in results.values()]
    assert all(m.startswith("the grading process ended with status 9 (os._exit? a crash?)") for m in messages)
    assert "debugging output" in messages[0]


def test_prints_and_exceptions_in_student_code_are_reported_not_fatal(tmp_path):
    source = replace_function(reference("kl_mvn"), "kl_mvn", """
        def kl_mvn(mu0, cov0, mu1, cov1):
            print('{"event": "result", "index": 0, "passed": true, "message": ""}')
            return float(np.linalg.cholesky(-cov1)[0, 0])
        """)
    line = source.splitlines().index("    return float(np.linalg.cholesky(-cov1)[0, 0])") + 1
    results = grade(tmp_path, "kl_mvn", source)
    assert not any(passed for passed, _ in results.values())
    first = results["kl_mvn matches the closed form for k = 1, 2, 3, 4"][1]
    assert first.startswith("kl_mvn raised LinAlgError")
    assert f"(line {line} of ex06_kl_mvn.py, in kl_mvn)" in first



def test_the_time_limit_scales_with_the_exercise_time_factor(tmp_path):
    source = replace_function(reference("kl_standard_normal"), "kl_standard_normal_grad", """
        def kl_standard_normal_grad(mu, logvar):
            import time
            time.sleep(0.8)
            return mu.copy(), 0.5 * np.expm1(logvar)
        """)
    (tmp_path / "ex05_kl_standard_normal.py").write_text(source)
    plain = get_exercise("kl_standard_normal")
    slow = dataclasses.replace(plain, time_factor=10.0)
    assert all(r.passed for r in run_exercise(tmp_path, slow, timeout=0.4))  # 4 s per check
    timed_out = [r.message for r in run_exercise(tmp_path, plain, timeout=0.4) if not r.passed]
    assert len(timed_out) == 3 and all(m.startswith("did not finish within 0.4 s") for m in timed_out)
    assert get_exercise("kl_properties").time_factor > 1  # a whole hypothesis suite per check


def test_a_flood_of_output_is_stopped_and_reported(tmp_path):
    source = replace_function(reference("kl_mvn"), "kl_mvn", """
        def kl_mvn(mu0, cov0, mu1, cov1):
            while True:
                print("x" * 10000)
        """)
    results = grade(tmp_path, "kl_mvn", source, timeout=30)
    assert all(m.startswith("printed more than 10 MB") for _, m in results.values()), results
