"""The exercises, in the lecture note's order: what each asks, what it is worth, which of
numvae's functions are its answers and which of them it may use.

This file is the one place that names numvae's functions for the grader's sandbox. An
answer is written as an attribute path from the ``numvae`` package: ``"kl_standard_normal"``
is ``numvae.kl_standard_normal``, ``"networks.decoder_forward"`` is
``numvae.networks.decoder_forward``. When
numvae renames or moves a function, the change here is one line (and
``tests/test_exercises.py`` fails until it is made, since every name must resolve).

While an exercise is graded, the answers of *every* exercise are traps in the child that
runs the student's file, except the answers of the exercises listed in ``may_use``:
exercises 8 and 11 assemble the primitives of exercises 2 to 7, exercise 10's tests may
compare with the general Gaussian KL of exercise 6.
"""

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
    points: float
    answers: tuple[str, ...] = ()  # numvae's functions that compute what the student writes
    may_use: tuple[int, ...] = ()  # exercises whose answers stay callable in this one
    time_factor: float = 1.0  # its checks may run this many times the grader's per-check limit
    needs_hypothesis: bool = False

    @property
    def file(self) -> str:
        """The student's file name, e.g. 'ex03_bce.py' (also the skeleton's)."""
        return f"ex{self.number:02d}_{self.name}.py"

    def checks_module(self) -> ModuleType:
        return importlib.import_module(f"numvae.exercises.checks.{self.name}")

    def checks(self) -> list:
        """The exercise's checks (``checks.Check``), in the order they run."""
        return list(self.checks_module().CHECKS)

    def check_names(self) -> list[str]:
        return [check.name for check in self.checks()]

    def trapped(self) -> tuple[str, ...]:
        """numvae's functions that are off limits while this exercise is graded."""
        allowed = {name for e in EXERCISES if e.number in self.may_use for name in e.answers}
        return tuple(name for e in EXERCISES for name in e.answers if name not in allowed)


EXERCISES: tuple[Exercise, ...] = (
    Exercise(1, "numerical_gradient", "central-difference numerical gradient", points=6,
             answers=("numerical_gradient",)),
    Exercise(2, "linear_relu", "linear layer and ReLU, forward and backward", points=10,
             answers=("linear_forward", "linear_backward", "relu_forward", "relu_backward",
                      "mlp.mlp_forward", "mlp.mlp_backward")),
    Exercise(3, "bce", "stable binary cross-entropy from logits and its gradient", points=8,
             answers=("bernoulli_log_prob", "bernoulli_log_prob_grad", "likelihoods.log_likelihood",
                      "likelihoods.log_likelihood_grad")),
    Exercise(4, "gaussian_nll", "Gaussian negative log-likelihood, its gradients, and MSE", points=8,
             answers=("gaussian_log_prob", "gaussian_log_prob_grad", "mvn_log_prob")),
    Exercise(5, "kl_standard_normal", "KL(N(mu, sigma^2) || N(0, I)) and its gradients", points=8,
             answers=("kl_standard_normal", "kl_standard_normal_grad", "kl_normal", "kl_normal_grad",
                      "kl_per_dimension")),
    Exercise(6, "kl_mvn", "KL between two multivariate Gaussians, the general formula", points=6,
             answers=("kl_mvn", "kl_mvn_grad")),
    Exercise(7, "reparameterize", "reparameterization z = mu + sigma * eps, forward and backward", points=8,
             answers=("reparameterize", "reparameterize_backward")),
    Exercise(8, "elbo", "the -ELBO of a mini-batch and its gradients through a tiny VAE", points=20,
             answers=("VAE", "networks.encoder_body_forward", "networks.encoder_body_backward",
                      "networks.decoder_forward", "networks.decoder_backward"), may_use=(2, 3, 4, 5, 6, 7)),
    Exercise(9, "iwae", "importance-weighted estimate of log p(x) with a stable log-sum-exp", points=12,
             answers=("logsumexp", "log_importance_weights", "importance_estimates", "iwae_log_px",
                      "iwae.log_weight_terms")),
    # Each check runs the student's whole hypothesis suite: seconds, not milliseconds.
    Exercise(10, "kl_properties", "write hypothesis property tests that catch broken KLs", points=14,
             may_use=(6,), time_factor=6.0, needs_hypothesis=True),
    # The next chapter (issues 16 and 17): the label, the objective, the prior, the network.
    Exercise(11, "conditional", "the conditional VAE: the label appended to both networks", points=12,
             answers=("model_config.with_label", "CVAE"), may_use=(2, 3, 4, 5, 6, 7)),
    Exercise(12, "iwae_objective", "the importance-weighted objective -L_k and its gradients", points=12,
             answers=("iwae.iwae_loss", "iwae.iwae_loss_and_grads", "iwae._iwae_forward", "softmax")),
    Exercise(13, "mixture_prior", "a learned mixture-of-Gaussians prior: log p(z) and its gradients",
             points=12, answers=("priors.MixturePrior.log_prob", "priors.MixturePrior.log_prob_grad",
                                 "priors.MixturePrior.component_log_probs", "priors.MixturePrior.weights",
                                 "priors.MixturePrior.kl", "priors.MixturePrior.kl_grads",
                                 "categorical_log_prob", "categorical_log_prob_grad")),
    Exercise(14, "conv2d", "2-D convolution, forward and backward (NCHW, stride, zero padding)", points=14,
             answers=("conv2d_forward", "conv2d_backward", "conv_transpose2d_forward",
                      "conv_transpose2d_backward", "convolution._conv", "convolution._conv_transpose",
                      "im2col", "col2im", "conv2d_output_shape")),
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
