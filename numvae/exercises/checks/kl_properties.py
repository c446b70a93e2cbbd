"""Checks for exercise 10: the student's hypothesis property tests for the KL.

The student writes test functions ``test_*(kl, ...)`` that take the KL under test as the
argument ``kl``. They are graded by what they catch: run against the correct KL
(``numvae.kl_standard_normal``) every test must pass; run against each broken KL below, at
least one test must fail. While the tests run, ``numvae.kl_standard_normal`` (and any name in
the student's module bound to it) is the KL under test, so comparing with it proves
nothing: the properties have to do the work.
"""

from __future__ import annotations

import contextlib

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
        mu, logvar = np.asarray(mu), np.asarray(logvar)
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
_RUNS: dict[tuple[int, str], tuple[str, BaseException] | None] = {}


def prepare() -> None:
    """Deterministic, quiet hypothesis runs (no example database in anyone's folder)."""
    try:
        from hypothesis import settings
    except ImportError:  # the student's import of hypothesis will report it
        return
    settings.register_profile("numvae-grader", max_examples=50, deadline=None, derandomize=True,
                              database=None, print_blob=False)
    settings.load_profile("numvae-grader")


def _tests(student) -> list:
    tests = [(name, fn) for name, fn in vars(student).items()
             if name.startswith("test") and callable(fn) and not isinstance(fn, type)]
    if not tests:
        raise CheckFailure(f"{student.__name__}.py defines no test_* function: write your property tests "
                           "as functions test_something(kl, ...)")
    return tests


@contextlib.contextmanager
def _kl_replaced(student, kl):
    """numvae.kl_standard_normal, and the student's names bound to it, become ``kl`` for a while."""
    import numvae
    targets = [numvae, kl_module] + [student]
    saved = []
    for target in targets:
        for name, value in list(vars(target).items()):
            if value is CORRECT:
                saved.append((target, name))
                setattr(target, name, kl)
    try:
        yield
    finally:
        for target, name in saved:
            setattr(target, name, CORRECT)


def _run_suite(student, label: str, kl):
    """The first (test name, exception) of the student's tests against ``kl``, or None."""
    key = (id(student), label)
    if key not in _RUNS:
        _RUNS[key] = None
        with _kl_replaced(student, kl), np.errstate(all="ignore"):
            for name, test in _tests(student):
                try:
                    test(kl=kl)
                except Exception as err:  # a failing test: what we are looking for
                    _RUNS[key] = (name, err)
                    break
    return _RUNS[key]


def _describe_failure(name: str, err: BaseException) -> str:
    if isinstance(err, NotImplementedError):
        return f"not implemented yet: {name} raised NotImplementedError({str(err)!r})"
    lines = [f"{name} failed on the correct KL (numvae.kl_standard_normal): {type(err).__name__}: "
             + (str(err).strip().splitlines() or [""])[0]]
    if isinstance(err, TypeError) and "kl" in str(err):
        lines.append("  hint: each test takes the KL under test as its argument kl: def test_x(kl, ...)")
    for note in getattr(err, "__notes__", [])[:3]:
        lines.append(f"  {note.strip()}")
    return "\n".join(lines)


@CHECKS("your tests pass on the correct KL")
def passes_on_correct(student, rng):
    failure = _run_suite(student, "correct", CORRECT)
    if failure is not None:
        raise CheckFailure(_describe_failure(*failure))


def _catches(description: str) -> None:
    broken, hint = BROKEN[description]

    @CHECKS(f"catch a KL that {description}")
    def check(student, rng):
        if _run_suite(student, "correct", CORRECT) is not None:
            raise CheckFailure("not counted: your tests must first pass on the correct KL (see the check "
                               "'your tests pass on the correct KL')")
        if _run_suite(student, description, broken) is None:
            raise CheckFailure(f"every test passed on a KL that {description}\n"
                               f"  hint: a property that catches it: {hint}")


for _description in BROKEN:
    _catches(_description)
