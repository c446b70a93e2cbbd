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
from pathlib import Path

import numpy as np

from .params import ParamDict
from .subnormals import flush_subnormals


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
        """Update ``params`` and ``state`` in place from ``grads``.

        Subnormal gradients and velocities are flushed to zero (``numvae.subnormals``):
        a weight whose gradient stays 0 has its velocity decay through the subnormal
        range, where arithmetic is up to 15x slower on some processors.
        """
        p, g, v = _flat("params", params), _flat("grads", grads), state["velocity"]
        flush_subnormals(g)
        v *= self.momentum
        v += g
        flush_subnormals(v)
        p -= self.lr * v
        state["step"] += 1


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction:

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The bias corrections are folded into a scalar step size and a scaled eps, so the
    array work is a dozen in-place passes over the flat buffers, in their own dtype.
    Subnormal gradients and moments are flushed to zero each step (``numvae.subnormals``):
    the m of a weight whose gradient is always 0 decays through the subnormal range,
    where arithmetic is up to 15x slower on some processors.

    ``block``: the passes run over the flat buffers ``block`` elements at a time, so that
    the arrays one pass reads and writes stay in the core's L2 cache from one pass to the
    next instead of streaming the whole model through memory a dozen times. ``None``
    (the default) takes ``ADAM_BLOCK``, chosen from this processor's L2 size by
    ``adam_block``; a block as large as the model runs each pass over all of it at once.
    The block changes no number: every pass is element by element.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    block: int | None = None  # None: ADAM_BLOCK, this machine's choice

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not self.eps > 0:
            raise ValueError(f"eps must be positive, got {self.eps}")
        if self.block is not None and (isinstance(self.block, bool) or not isinstance(self.block, int)
                                       or self.block < 1):
            raise ValueError(f"block must be a positive integer or None, got {self.block!r}")

    def init(self, params: ParamDict) -> dict:
        flat = _flat("params", params)
        return {"step": 0, "m": np.zeros_like(flat), "v": np.zeros_like(flat)}

    def step(self, params: ParamDict, grads: ParamDict, state: dict) -> None:
        """Update ``params`` and ``state`` in place from ``grads`` (flushing subnormals)."""
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
        block = self.block or ADAM_BLOCK or p.size  # ADAM_BLOCK None: the whole model at once
        work = np.empty(min(block, p.size), dtype=p.dtype)
        for start in range(0, p.size, block):
            part = slice(start, start + block)
            self._update(p[part], g[part], m[part], v[part], work[:len(p[part])], step_size, eps_hat)

    def _update(self, p, g, m, v, work, step_size: float, eps_hat: float) -> None:
        """The update on one block of the flat buffers, all arrays (B,), in place.

        Each line is one pass over the block, written into m, v, p or ``work`` (out=,
        in-place operators), so no other array is allocated.
        """
        flush_subnormals(g)
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=work)  # m <- b1 m + (1 - b1) g
        v *= self.beta2
        np.multiply(g, g, out=work)
        v += np.multiply(work, 1 - self.beta2, out=work)  # v <- b2 v + (1 - b2) g^2
        flush_subnormals(m)
        flush_subnormals(v)
        np.sqrt(v, out=work)
        work += eps_hat
        np.divide(m, work, out=work)
        p -= np.multiply(work, step_size, out=work)  # theta <- theta - step_size m / (sqrt(v) + eps_hat)


# Adam's passes in blocks: a gain on some processors, a loss on others, so the block is
# chosen from the L2 cache. Measured per step on the 652,824-parameter benchmark VAE
# (benchmarks/bench_adam.py, interleaved rounds):
# - Intel Xeon (Sapphire Rapids, 2 MB L2 per core): whole model 1.85 ms, blocks of
#   32768 to 131072 1.16-1.24 ms; 8192 gained little.
# - AMD EPYC (Zen 3, 512 KB L2, a 32 MB L3 that holds all five arrays): blocks of
#   131072 took 1.02-1.24 times the whole-model step (three runs), smaller blocks 1.3-1.7
#   times: there the passes run from L3 anyway, and each block costs a dozen more NumPy
#   calls (a few microseconds each).
# So: the largest power of two whose one pass (three float32 arrays: two read, one
# written) fits in L2, and no blocks at all when that is under MIN_ADAM_BLOCK elements.
MIN_ADAM_BLOCK = 65536
BYTES_PER_BLOCK_ELEMENT = 3 * 4


def adam_block(l2_bytes: int) -> int | None:
    """Elements per block for a core with ``l2_bytes`` of L2 cache, or None (no blocks).

    2 MiB of L2 gives 131072 (3 arrays * 4 bytes * 131072 = 1.5 MiB); 512 KiB gives
    43690 elements' worth, under MIN_ADAM_BLOCK, so None.
    """
    fits = l2_bytes // BYTES_PER_BLOCK_ELEMENT
    if fits < MIN_ADAM_BLOCK:
        return None
    return 1 << (fits.bit_length() - 1)  # the largest power of two <= fits


def l2_cache_bytes(cpu_cache: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> int:
    """The first core's L2 cache in bytes, as Linux lists it; 0 where it cannot say."""
    units = {"": 1, "K": 1024, "M": 1024**2}
    try:
        for index in sorted(cpu_cache.glob("index*")):
            if (index / "level").read_text().strip() == "2":
                size = (index / "size").read_text().strip()  # e.g. '512K'
                return int(size.rstrip("KM")) * units[size.lstrip("0123456789")]
    except (OSError, ValueError, KeyError):  # unreadable or unexpected: no blocks
        pass
    return 0  # not Linux, or no L2 listed: no blocks


ADAM_BLOCK = adam_block(l2_cache_bytes())

# Two faster-looking Adams, measured inside the training step and dropped (AMD EPYC Zen 3,
# 2 cores, per-step medians of interleaved rounds of 50 steps, December 2026):
# - The passes on both cores, the flat buffers cut in two halves updated by two threads
#   (NumPy releases the GIL inside a ufunc). Alone: 1.65 -> 0.95 ms per step. Inside the
#   training step: 2.5-3.4 % *slower*, because after every matrix product OpenBLAS's
#   worker thread keeps spinning on the second core (for up to 2^28 cycles,
#   OPENBLAS_THREAD_TIMEOUT), where the second half then has to share it. With that
#   timeout cut to 2^4-2^18 cycles the halves gained 7-10 %, but the products lost as
#   much waking their worker: no better than one core.
# - BLAS level 1 for the multiply-adds (scipy.linalg.blas sscal and saxpy: one fused pass
#   for m <- m + (1 - b1) g instead of two NumPy passes: 0.09 ms against 0.2 ms on one
#   core). Inside the step 3.6 % faster with SciPy's BLAS held to one thread; 3.1 times
#   *slower* without that limit: SciPy bundles its own OpenBLAS, whose spinning threads
#   and NumPy's then fight over the two cores. Too fragile to ship for 3.6 %.
