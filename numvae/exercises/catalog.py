"""The exercises, in the lecture note's order: what each asks and where its checks live."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Exercise:
    """One exercise: a skeleton file for the student and a module of checks for the grader."""

    number: int
    name: str
    title: str
    time_factor: float = 1.0  # its checks may run this many times the grader's per-check limit

    @property
    def file(self) -> str:
        """The student's file name, e.g. 'ex03_bce.py' (also the skeleton's)."""
        return f"ex{self.number:02d}_{self.name}.py"

    def checks_module(self) -> ModuleType:
        return importlib.import_module(f"numvae.exercises.checks.{self.name}")

    def check_names(self) -> list[str]:
        return [check.name for check in self.checks_module().CHECKS]


EXERCISES: tuple[Exercise, ...] = (
    Exercise(1, "numerical_gradient", "central-difference numerical gradient"),
    Exercise(2, "linear_relu", "linear layer and ReLU, forward and backward"),
    Exercise(3, "bce", "stable binary cross-entropy from logits and its gradient"),
    Exercise(4, "gaussian_nll", "Gaussian negative log-likelihood, its gradients, and MSE"),
    Exercise(5, "kl_standard_normal", "KL(N(mu, sigma^2) || N(0, I)) and its gradients"),
    Exercise(6, "kl_mvn", "KL between two multivariate Gaussians, the general formula"),
    Exercise(7, "reparameterize", "reparameterization z = mu + sigma * eps, forward and backward"),
    Exercise(8, "elbo", "the -ELBO of a mini-batch and its gradients through a tiny VAE"),
    Exercise(9, "iwae", "importance-weighted estimate of log p(x) with a stable log-sum-exp"),
    # Running a whole hypothesis suite per check takes seconds, not milliseconds.
    Exercise(10, "kl_properties", "write hypothesis property tests that catch broken KLs", time_factor=6.0),
)


def get_exercise(name: str) -> Exercise:
    """Look an exercise up by name ('bce'), file stem ('ex03_bce') or number ('3', '03')."""
    for exercise in EXERCISES:
        if name in (exercise.name, exercise.file, exercise.file[:-3], str(exercise.number),
                    f"{exercise.number:02d}"):
            return exercise
    known = ", ".join(e.name for e in EXERCISES)
    raise ValueError(f"unknown exercise {name!r}; expected one of: {known}")


def select(names=None) -> list[Exercise]:
    """The exercises named (in the catalog's order), or all of them for None or []."""
    if not names:
        return list(EXERCISES)
    chosen = {get_exercise(name).number for name in names}
    return [e for e in EXERCISES if e.number in chosen]
