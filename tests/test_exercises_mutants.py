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
