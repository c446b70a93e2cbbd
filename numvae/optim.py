"""Optimizers: SGD with momentum, and Adam with bias correction.

Each optimizer holds only its hyperparameters; its state (velocities, moments, step
count) is an explicit dict created by ``init`` and updated by ``step``, so it can be
saved in a checkpoint and restored exactly. Because the parameters and gradients are
views into one flat buffer each (``ParamDict.flat``), a step is a handful of vectorised
operations on the whole model at once, done in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .params import ParamDict


def _flat(name: str, d) -> np.ndarray:
    if not isinstance(d, ParamDict):
        raise TypeError(f"{name} must be a ParamDict (arrays in one flat buffer), got {type(d).__name__}")
    return d.flat


@dataclass(frozen=True)
class SGD:
    """theta <- theta - lr * v,   v <- momentum * v + g   (PyTorch's convention)."""

    lr: float = 0.01
    momentum: float = 0.0

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")

    def init(self, params: ParamDict) -> dict:
        return {"step": 0, "velocity": np.zeros_like(_flat("params", params))}

    def step(self, params: ParamDict, grads: ParamDict, state: dict) -> None:
        """Update ``params`` and ``state`` in place from ``grads``."""
        p, g, v = _flat("params", params), _flat("grads", grads), state["velocity"]
        v *= self.momentum
        v += g
        p -= self.lr * v
        state["step"] += 1


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction:

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The bias corrections are folded into a scalar step size and a scaled eps, so the
    array work is a dozen in-place passes over the flat buffers, in their own dtype.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    def init(self, params: ParamDict) -> dict:
        flat = _flat("params", params)
        return {"step": 0, "m": np.zeros_like(flat), "v": np.zeros_like(flat)}

    def step(self, params: ParamDict, grads: ParamDict, state: dict) -> None:
        """Update ``params`` and ``state`` in place from ``grads``."""
        p, g = _flat("params", params), _flat("grads", grads)
        m, v = state["m"], state["v"]
        state["step"] += 1
        t = state["step"]
        # Plain Python floats (math.sqrt, not np.sqrt) on purpose: an np.float64 scalar
        # would turn every float32 expression below into a float64 one, twice the work.
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        # lr * (m/c1) / (sqrt(v/c2) + eps) == (lr sqrt(c2)/c1) * m / (sqrt(v) + eps sqrt(c2))
        step_size = self.lr * math.sqrt(c2) / c1
        eps_hat = self.eps * math.sqrt(c2)
        # Each line is one pass over the whole model, written into m, v, p or one scratch
        # buffer (out=, in-place operators), so no other model-sized array is allocated.
        work = np.empty_like(p)
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=work)  # m <- b1 m + (1 - b1) g
        v *= self.beta2
        np.multiply(g, g, out=work)
        v += np.multiply(work, 1 - self.beta2, out=work)  # v <- b2 v + (1 - b2) g^2
        np.sqrt(v, out=work)
        work += eps_hat
        np.divide(m, work, out=work)
        p -= np.multiply(work, step_size, out=work)  # theta <- theta - step_size m / (sqrt(v) + eps_hat)


OPTIMIZERS = {"adam": Adam, "sgd": SGD}
