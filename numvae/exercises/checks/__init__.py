"""The grader's checks, one module per exercise, named after it.

Each module holds ``CHECKS``, a ``CheckList`` filled in reading order by decorating
functions ``check(student, rng) -> None``: ``student`` is the student's file as the grader
sees it (``session.Submission``: its functions run in the child, on the arguments the
check sends), ``rng`` a Generator seeded from the exercise number, the check's position
and the instructor's ``--seed`` (so a grade is reproducible, and hidden inputs are one
option away). A check returns when it passes and raises ``compare.CheckFailure`` with the
reason when it does not. References are numvae's own functions, called here, in the
grader's process: the exercises re-derive the package.

Two kinds of check:

- a *value* check compares the student's answer with numvae's on the grader's inputs;
  zeros, a constant or an input handed back unchanged do not pass it;
- a *consistency* check (``value=False``) tests a property that such an answer can
  satisfy: the right shape, zero where the KL is zero, agreement of a gradient with
  finite differences of the student's own function (both constant: they agree). It
  counts only once the value checks it depends on pass (``after``: their names, all of
  the exercise's value checks by default; ``after_any``: one of them is enough).

A check with ``fresh=True`` runs in a new child process (each property-test suite of
exercise 10 does, so that no state carries from one KL to the next).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the grade table: a description, the function that checks it, its kind."""

    name: str
    run: Callable
    value: bool = True
    after: tuple[str, ...] | None = None
    after_any: bool = False
    fresh: bool = False


class CheckList(list):
    """A list of Checks that doubles as a decorator: ``@CHECKS("what is checked")``."""

    def __call__(self, name: str, *, value: bool = True, after: tuple[str, ...] | None = None,
                 after_any: bool = False, fresh: bool = False) -> Callable:
        if any(check.name == name for check in self):
            raise ValueError(f"check names must be unique within an exercise; {name!r} repeats")

        def register(fn: Callable) -> Callable:
            self.append(Check(name, fn, value, after, after_any, fresh))
            return fn

        return register

    def gate(self, check: Check) -> list[str]:
        """The names of the checks that must pass before the consistency check ``check`` counts."""
        if check.after is not None:
            unknown = [name for name in check.after if name not in {c.name for c in self}]
            if unknown:
                raise ValueError(f"{check.name!r} waits for unknown checks {unknown}")
            return list(check.after)
        return [c.name for c in self if c.value]
