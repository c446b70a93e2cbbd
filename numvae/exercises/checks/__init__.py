"""The grader's checks, one module per exercise, named after it.

Each module holds ``CHECKS``, a ``CheckList`` filled in reading order by decorating
functions ``check(student, rng) -> None``: ``student`` is the student's imported module,
``rng`` a Generator seeded from the exercise number and the check's position (so a
grade is reproducible). A check returns when it passes and raises
``compare.CheckFailure`` with the reason when it does not. A module may also define
``prepare()``, run before the student's module is imported.

References are numvae's own functions: the exercises re-derive the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the grade table: a description and the function that checks it."""

    name: str
    run: Callable


class CheckList(list):
    """A list of Checks that doubles as a decorator: ``@CHECKS("what is checked")``."""

    def __call__(self, name: str) -> Callable:
        if any(check.name == name for check in self):
            raise ValueError(f"check names must be unique within an exercise; {name!r} repeats")

        def register(fn: Callable) -> Callable:
            self.append(Check(name, fn))
            return fn

        return register
