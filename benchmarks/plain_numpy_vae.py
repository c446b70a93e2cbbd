"""A second yardstick for ``bench_train.py``: the same training step in plain NumPy.

One function, ``Trainer.step``, does a whole step with no layers, caches, input checks or
dictionaries of gradients: the forward pass, the backward pass and Adam written out line
after line, every temporary reused where NumPy allows. Same model, same loss, same Adam
(the same dozen passes as ``numvae.Adam``), same starting parameters and the same random
draws in the same order as ``numvae.train_epoch``, so it trains to the same numbers up to
float32 rounding.

It answers one question: how much of numvae's epoch is the price of numvae's structure
(forward/backward pairs, validated inputs, named parameters), and how much is NumPy's own
cost for this arithmetic? If the two take about the same time, a faster numvae needs less
arithmetic, or arithmetic outside NumPy, not a different code structure.

Nothing here is part of numvae, and numvae never uses it. It borrows from numvae only
``evaluate`` (so that both report the test -ELBO the same way), the two-line subnormal
flush and Adam's block size, so that it does exactly the arithmetic numvae does.
"""

from __future__ import annotations

import math
import time

import numpy as np

from numvae.optim import ADAM_BLOCK  # the same block size, chosen from the L2 cache
from numvae.subnormals import count_subnormals, flush_subnormals  # two lines each: see that module

LAYERS = ("enc.0", "enc.mu", "enc.logvar", "dec.0", "dec.out")


def describe() -> dict:
    """What bench_train prints about this baseline."""
    return {"version": np.__version__, "threads": None}


class Trainer:
    """The plain step's parameters, Adam moments, data and Generator."""

    def __init__(self, params: dict[str, np.ndarray], train_x, test_x, *, batch_size: int, lr: float,
                 seed: int, rng_state: dict | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        names = [f"{layer}.{part}" for layer in LAYERS for part in ("W", "b")]
        # One flat float32 buffer for the parameters and one for the gradients, with a view
        # per array, so that Adam is one pass per operation over the whole model.
        sizes = [params[name].size for name in names]
        self.flat = np.concatenate([np.ravel(params[name]) for name in names]).astype(np.float32)
        self.grad_flat = np.zeros_like(self.flat)
        offsets = np.cumsum([0, *sizes])
        self.p, self.g = {}, {}
        for name, start, stop in zip(names, offsets[:-1], offsets[1:], strict=True):
            shape = params[name].shape
            self.p[name] = self.flat[start:stop].reshape(shape)
            self.g[name] = self.grad_flat[start:stop].reshape(shape)
        self.m, self.v, self.t = np.zeros_like(self.flat), np.zeros_like(self.flat), 0
        self.block = ADAM_BLOCK or self.flat.size  # as numvae.Adam: None means no blocks
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.train_x, self.test_x, self.batch_size = train_x, test_x, batch_size
        self.latent = params["enc.mu.W"].shape[1]
        # numvae's run drew its initial parameters from its Generator; rng_state, that
        # Generator's state afterwards, puts this one at the same point of the same stream:
        # then each epoch draws the same permutation and, step by step, the same eps.
        self.rng = np.random.default_rng(seed)
        if rng_state is not None:
            self.rng.bit_generator.state = rng_state
        self.eval_rng = np.random.default_rng(seed + 1)

    def step(self, x: np.ndarray, eps: np.ndarray) -> float:
        """One step on a batch x (N, D) with noise eps (N, K); returns the batch's -ELBO."""
        p, g, n = self.p, self.g, x.shape[0]
        # forward
        h = x @ p["enc.0.W"]
        h += p["enc.0.b"]
        np.maximum(h, 0, out=h)
        mu = h @ p["enc.mu.W"]
        mu += p["enc.mu.b"]
        logvar = h @ p["enc.logvar.W"]
        logvar += p["enc.logvar.b"]
        std = np.exp(0.5 * logvar)
        z = mu + std * eps
        hd = z @ p["dec.0.W"]
        hd += p["dec.0.b"]
        np.maximum(hd, 0, out=hd)
        logits = hd @ p["dec.out.W"]
        logits += p["dec.out.b"]
        # loss: sum over pixels of softplus(l) - x l, plus the KL, both averaged over the batch
        softplus = np.abs(logits)
        np.negative(softplus, out=softplus)
        np.exp(softplus, out=softplus)
        flush_subnormals(softplus)  # exp(-|l|) < 1e-38 for blank pixels' logits: numvae flushes it too
        u = softplus + 1  # log1p(t) as numvae.layers.log1p: log(u) - ((u - 1) - t) / u, u = 1 + t
        correction = u - 1
        correction -= softplus
        correction /= u
        np.log(u, out=softplus)
        softplus -= correction
        softplus += np.maximum(logits, 0)
        var = np.exp(logvar)
        recon = (softplus.sum() - np.einsum("nd,nd->", x, logits)) / n
        kl = 0.5 * (mu * mu + var - logvar - 1).sum() / n
        # backward: dL/dlogits = (sigmoid(l) - x) / n
        dlogits = np.negative(logits)
        with np.errstate(over="ignore"):  # exp(-l) = inf for l < -88 gives sigmoid = 0, as it should
            np.exp(dlogits, out=dlogits)
        dlogits += 1
        np.divide(1, dlogits, out=dlogits)
        flush_subnormals(dlogits)  # sigmoid(l), flushed as numvae.sigmoid does
        dlogits -= x
        dlogits *= 1 / n
        flush_subnormals(dlogits)  # as numvae's Bernoulli gradient
        np.matmul(hd.T, dlogits, out=g["dec.out.W"])
        np.sum(dlogits, axis=0, out=g["dec.out.b"])
        dhd = dlogits @ p["dec.out.W"].T
        dhd *= hd > 0
        np.matmul(z.T, dhd, out=g["dec.0.W"])
        np.sum(dhd, axis=0, out=g["dec.0.b"])
        dz = dhd @ p["dec.0.W"].T
        dmu = dz + mu * (1 / n)  # the KL's d/dmu = mu, averaged over the batch
        dlogvar = dz * (0.5 * std * eps)
        dlogvar += (0.5 / n) * (var - 1)
        np.matmul(h.T, dmu, out=g["enc.mu.W"])
        np.sum(dmu, axis=0, out=g["enc.mu.b"])
        np.matmul(h.T, dlogvar, out=g["enc.logvar.W"])
        np.sum(dlogvar, axis=0, out=g["enc.logvar.b"])
        dh = dmu @ p["enc.mu.W"].T
        dh += dlogvar @ p["enc.logvar.W"].T
        dh *= h > 0
        np.matmul(x.T, dh, out=g["enc.0.W"])
        np.sum(dh, axis=0, out=g["enc.0.b"])
        self.adam()
        return float(recon + kl)

    def adam(self) -> None:
        """numvae.Adam's update, pass for pass: bias corrections folded into two scalars, the
        same blocks of the flat buffers, the same flushes of subnormal numbers."""
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        step_size, eps_hat = self.lr * math.sqrt(c2) / c1, self.eps * math.sqrt(c2)
        b1, b2, size = self.beta1, self.beta2, self.flat.size
        work_all = np.empty(min(self.block, size), dtype=self.flat.dtype)
        for start in range(0, size, self.block):
            part = slice(start, start + self.block)
            p, grad, m, v = self.flat[part], self.grad_flat[part], self.m[part], self.v[part]
            work = work_all[:p.size]
            flush_subnormals(grad)
            m *= b1
            m += np.multiply(grad, 1 - b1, out=work)
            v *= b2
            np.multiply(grad, grad, out=work)
            v += np.multiply(work, 1 - b2, out=work)
            flush_subnormals(m)
            flush_subnormals(v)
            np.sqrt(v, out=work)
            work += eps_hat
            np.divide(m, work, out=work)
            p -= np.multiply(work, step_size, out=work)

    def epoch(self) -> dict:
        """One shuffled pass, batch by batch as numvae.train_epoch; its wall time and mean loss."""
        x, size = self.train_x, self.batch_size
        t0 = time.perf_counter()
        order = self.rng.permutation(x.shape[0])
        total = 0.0
        for start in range(0, x.shape[0], size):
            batch = x[order[start:start + size]]
            eps = self.rng.standard_normal((batch.shape[0], self.latent), dtype=np.float32)
            total += self.step(batch, eps) * batch.shape[0]
        return {"seconds": time.perf_counter() - t0, "train_loss": total / x.shape[0]}

    def subnormals(self) -> dict:
        """How many subnormal numbers the optimizer state and the gradients hold now."""
        return {"optimizer_state": count_subnormals(self.m) + count_subnormals(self.v),
                "gradients": count_subnormals(self.grad_flat)}

    def evaluate(self) -> float:
        """Test -ELBO by numvae.evaluate (not timed): the same yardstick as numvae's run."""
        import numvae as nv

        hidden, latent = self.p["enc.0.W"].shape[1], self.latent
        model = nv.VAE(nv.ModelConfig(self.test_x.shape[1], hidden=(hidden,), latent=latent))
        params = nv.ParamDict.from_arrays(self.p)
        return nv.evaluate(model, params, self.test_x, self.eval_rng)["loss"]
