"""Checks for exercise 10: the student's hypothesis property tests for the KL.

The student writes test functions ``test_*(kl, ...)`` that take the KL under test as the
argument ``kl``. Each check runs the student's tests in a fresh child against one KL: the
correct one (``numvae.kl_standard_normal``) or one of the broken KLs below. The KL itself
stays here, in the grader: in the child, ``kl`` is a callback, and each ``kl(mu, logvar)``
sends the arrays to the grader, which evaluates the KL of this run on them and sends the
values back. The child cannot tell which KL it is calling except by the values it gets:
telling them apart is exactly what a property test does. (numvae's own KL is a trap in
the child: calling it fails the test.)

Verdicts are the grader's. On the correct KL every test must pass. A broken KL is caught
when one of the tests fails with an assertion (AssertionError, as assert and
numpy.testing raise, or a group of them) *after calling kl at least once in that run*
(the grader counts the calls) and that same test passed on the correct KL. A child can
claim any outcome it likes, but a claim only scores if it says "pass" on the correct KL
and "fail" on the broken one, which it can only do by comparing values it received: a
property test, however it is written. Each run is a fresh process that can write no file
and open no socket, so nothing carries over from one KL to the next.
"""

from __future__ import annotations

import numpy as np

from ... import kl as kl_module
from ..compare import CheckFailure
from . import CheckList

CHECKS = CheckList()
CORRECT = kl_module.kl_standard_normal


def _broken(formula):
    """A broken KL with the correct one's argument checks, so only the math differs."""
    def kl(mu, logvar):
        CORRECT(mu, logvar)  # raises exactly as the correct KL does on bad input
        mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
        with np.errstate(all="ignore"):
            return formula(mu, logvar)
    return kl


# description -> (broken KL, a property that catches it)
BROKEN = {
    "forgets the -1": (
        _broken(lambda mu, lv: 0.5 * np.sum(mu * mu + np.exp(lv) - lv, axis=1)),
        "KL(N(0, I) || N(0, I)) = 0"),
    "averages over the latent dimensions instead of summing": (
        _broken(lambda mu, lv: 0.5 * np.mean(mu * mu + np.exp(lv) - lv - 1, axis=1)),
        "independent dimensions add up: KL of the columns [a, b] = KL of a + KL of b (with K >= 2)"),
    "reads logvar as ln sigma instead of ln sigma^2": (
        _broken(lambda mu, lv: 0.5 * np.sum(mu * mu + np.exp(2 * lv) - 2 * lv - 1, axis=1)),
        "agreement with the general formula, numvae.kl_mvn(mu, diag(exp(logvar)), 0, I), or a "
        "value worked out by hand, e.g. KL(N(0, e) || N(0, 1)) = (e - 2) / 2"),
    "forgets the factor 1/2": (
        _broken(lambda mu, lv: np.sum(mu * mu + np.exp(lv) - lv - 1, axis=1)),
        "a value worked out by hand, e.g. KL(N(1, 1) || N(0, 1)) = 1/2, or agreement with kl_mvn"),
    "has the wrong sign on the logvar term": (
        _broken(lambda mu, lv: 0.5 * np.sum(mu * mu + np.exp(lv) + lv - 1, axis=1)),
        "KL >= 0 for every mu and logvar (try logvar < 0)"),
    "ignores the mean mu": (
        _broken(lambda mu, lv: 0.5 * np.sum(np.exp(lv) - lv - 1, axis=1)),
        "KL > 0 when mu != 0 (with logvar = 0), or KL grows with |mu|"),
}
CATCHES = tuple(f"catch a KL that {description}" for description in BROKEN)


def _tests(student) -> list[str]:
    if not student.tests:
        raise CheckFailure(f"{student.file} defines no test_* function: write your property tests "
                           "as functions test_something(kl, ...)")
    return student.tests


def _describe_failure(name: str, outcome: dict) -> str:
    if outcome["outcome"] == "not_implemented":
        return f"not implemented yet: {name} raised NotImplementedError({outcome['message']!r})"
    if outcome["outcome"] == "trap":
        return f"{name} {outcome['message'] or 'calls one of numvae functions that are off limits'}"
    lines = [f"{name} failed on the correct KL (numvae.kl_standard_normal): "
             f"{outcome['type']}: {outcome['message']}"]
    if outcome["type"] == "TypeError" and "kl" in outcome["message"]:
        lines.append("  hint: each test takes the KL under test as its argument kl: def test_x(kl, ...)")
    lines.extend(f"  {note.strip()}" for note in outcome.get("notes", []))
    return "\n".join(lines)


@CHECKS("your tests pass on the correct KL", value=False, after=CATCHES, after_any=True, fresh=True)
def passes_on_correct(student, rng):
    # value=False: tests that assert nothing pass here too, so this counts with a catch.
    outcomes = {}
    for name in _tests(student):
        outcome, _ = student.run_test(name, CORRECT)
        outcomes[name] = outcome
        if outcome["outcome"] != "passed":
            student.cache["correct"] = outcomes
            raise CheckFailure(_describe_failure(name, outcome))
    student.cache["correct"] = outcomes


def _catches(description: str) -> None:
    broken, hint = BROKEN[description]

    @CHECKS(f"catch a KL that {description}", fresh=True)
    def check(student, rng):
        correct = student.cache.get("correct", {})
        tests = _tests(student)
        if not all(correct.get(name, {}).get("outcome") == "passed" for name in tests):
            raise CheckFailure("not counted: your tests must first pass on the correct KL (see the check "
                               "'your tests pass on the correct KL')")
        errors = []
        # Tests that caught an earlier KL go first (it saves whole suites; the order depends on
        # earlier runs only, so it tells this run nothing about its own KL).
        catchers = student.cache.setdefault("catchers", [])
        for name in catchers + [t for t in tests if t not in catchers]:
            outcome, calls = student.run_test(name, broken)
            if outcome["outcome"] == "failed" and calls > 0:
                if name not in catchers:
                    catchers.append(name)
                return  # an assertion failed after looking at this KL's values: caught
            if outcome["outcome"] != "passed":
                ended = outcome["type"] or outcome["outcome"]
                errors.append(f"{name} ended with {ended}, not a failed assertion")
        message = f"every test passed on a KL that {description}"
        if errors:
            message = (f"no test failed an assertion on a KL that {description}: {errors[0]} (a property "
                       "test fails by asserting)")
        raise CheckFailure(f"{message}\n  hint: a property that catches it: {hint}")


for _description in BROKEN:
    _catches(_description)
