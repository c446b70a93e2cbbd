"""The PyTorch baseline of ``bench_train.py``: the same VAE, trained the way PyTorch users do.

Same architecture (Linear + ReLU encoder, mean and log-variance heads, Linear + ReLU
decoder, Bernoulli logits), same loss (cross-entropy summed over pixels plus the closed
form KL summed over latent dimensions, both averaged over the batch), same optimizer
(torch.optim.Adam with its defaults) and the same starting parameters, copied from
numvae's. It runs in a child process (``child.serve``) so that PyTorch is never imported
into the process whose memory the benchmark reports for numvae.

Nothing here is part of numvae: PyTorch is only a yardstick.
"""

from __future__ import annotations

import time

import numpy as np

# numvae's parameter names -> the torch module holding them (numvae W is (in, out),
# torch weight is (out, in): the copy transposes).
LAYERS = ("enc.0", "enc.mu", "enc.logvar", "dec.0", "dec.out")


def describe() -> dict:
    """PyTorch's version and thread count; ImportError when PyTorch is not importable."""
    import torch

    # str(): torch.__version__ is a torch class, and unpickling it would import torch in the parent
    return {"version": str(torch.__version__), "threads": torch.get_num_threads()}


def build(params: dict[str, np.ndarray]):
    """A torch VAE whose Linear layers hold a copy of numvae's ``params``."""
    import torch
    from torch import nn

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleDict({
                name.replace(".", "_"): nn.Linear(*params[f"{name}.W"].shape) for name in LAYERS
            })
            with torch.no_grad():
                for name in LAYERS:
                    layer = self.layers[name.replace(".", "_")]
                    layer.weight.copy_(torch.from_numpy(params[f"{name}.W"].T.copy()))
                    layer.bias.copy_(torch.from_numpy(params[f"{name}.b"].copy()))

        def loss_terms(self, x, generator=None):
            """(recon, kl), each averaged over the batch: the -ELBO is their sum."""
            f = torch.nn.functional
            L = self.layers
            h = f.relu(L["enc_0"](x))
            mu, logvar = L["enc_mu"](h), L["enc_logvar"](h)
            eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
            logits = L["dec_out"](f.relu(L["dec_0"](z)))
            n = x.shape[0]
            recon = f.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
            kl = 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1).sum() / n
            return recon, kl

    return TorchVAE()


class Trainer:
    """Holds the torch model, optimizer, data and Generator of one benchmark run."""

    def __init__(self, params, train_x, test_x, *, batch_size: int, lr: float, seed: int):
        import torch

        self.torch = torch
        self.model = build(params)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.train_x = torch.from_numpy(train_x)
        self.test_x = torch.from_numpy(test_x)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self) -> dict:
        """One shuffled pass over the training set; returns its wall time and mean loss."""
        torch, n = self.torch, self.train_x.shape[0]
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=self.generator)
        total = 0.0
        for start in range(0, n, self.batch_size):
            x = self.train_x[order[start:start + self.batch_size]]
            recon, kl = self.model.loss_terms(x, self.generator)
            loss = recon + kl
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * x.shape[0]
        return {"seconds": time.perf_counter() - t0, "train_loss": total / n}

    def subnormals(self) -> dict:
        """How many subnormal numbers Adam's state and the gradients hold now (PyTorch does
        not flush them unless torch.set_flush_denormal(True) is called; it is not here)."""
        torch = self.torch
        tiny = torch.finfo(torch.float32).tiny

        def count(t) -> int:
            a = t.detach().abs()
            return int(((a > 0) & (a < tiny)).sum())

        params = list(self.model.parameters())
        state = sum(count(self.optimizer.state[q][key]) for q in params
                    for key in ("exp_avg", "exp_avg_sq") if q in self.optimizer.state)
        grads = sum(count(q.grad) for q in params if q.grad is not None)
        return {"optimizer_state": state, "gradients": grads}

    def evaluate(self, batch_size: int = 1000) -> float:
        """Test -ELBO (nats per image) with one z ~ q(z|x) per image, like numvae.evaluate."""
        torch, n = self.torch, self.test_x.shape[0]
        total = 0.0
        with torch.no_grad():
            for start in range(0, n, batch_size):
                x = self.test_x[start:start + batch_size]
                recon, kl = self.model.loss_terms(x, self.generator)
                total += float(recon + kl) * x.shape[0]
        return total / n
