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


def describe() -> dict:
    """PyTorch's version and thread count; ImportError when PyTorch is not importable."""
    import torch

    # str(): torch.__version__ is a torch class, and unpickling it would import torch in the parent
    return {"version": str(torch.__version__), "threads": torch.get_num_threads()}


def build(params: dict[str, np.ndarray], image_shape: tuple[int, int] | None = None):
    """A torch VAE whose layers hold a copy of numvae's ``params`` (names as numvae's).

    The MLP VAE (enc.i, enc.mu, enc.logvar, dec.i, dec.out) or, when ``params`` hold
    enc.conv0 ..., numvae's convolutional VAE (conv_net.py): Conv2d 3x3 stride 2 padding 1
    twice, the MLP, dec.fc, then ConvTranspose2d 3x3 stride 2 padding 1 output_padding 1
    twice. numvae's Linear W is (in, out), torch's weight (out, in): the copy transposes;
    both kinds of convolution store their kernels as torch does.
    """
    import torch
    from torch import nn

    conv = "enc.conv0.W" in params
    n_hidden = sum(1 for name in params if name[:4] == "enc." and name[4:-2].isdigit() and name[-2:] == ".W")
    linear = [f"enc.{i}" for i in range(n_hidden)] + ["enc.mu", "enc.logvar"]
    linear += [f"dec.{i}" for i in range(n_hidden)] + (["dec.fc"] if conv else ["dec.out"])
    shape = {name[:-2]: params[name].shape for name in params if name.endswith(".W")}

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            layers = {name: nn.Linear(*shape[name]) for name in linear}
            if conv:  # numvae's conv kernel is (C_out, C_in, 3, 3), the transposed one (C_in, C_out, 3, 3)
                for name in ("enc.conv0", "enc.conv1"):
                    layers[name] = nn.Conv2d(shape[name][1], shape[name][0], 3, stride=2, padding=1)
                for name in ("dec.deconv0", "dec.deconv1"):
                    layers[name] = nn.ConvTranspose2d(*shape[name][:2], 3, stride=2, padding=1,
                                                      output_padding=1)
            self.layers = nn.ModuleDict({name.replace(".", "_"): layer for name, layer in layers.items()})
            with torch.no_grad():
                for name, layer in layers.items():
                    weight = params[f"{name}.W"]
                    layer.weight.copy_(torch.from_numpy((weight.T if weight.ndim == 2 else weight).copy()))
                    layer.bias.copy_(torch.from_numpy(params[f"{name}.b"].copy()))

        def loss_terms(self, x, generator=None):
            """(recon, kl), each averaged over the batch: the -ELBO is their sum."""
            f = torch.nn.functional
            L = self.layers
            h = x
            if conv:
                images = x.reshape(x.shape[0], 1, *image_shape)
                h = f.relu(L["enc_conv1"](f.relu(L["enc_conv0"](images)))).reshape(x.shape[0], -1)
            for i in range(n_hidden):
                h = f.relu(L[f"enc_{i}"](h))
            mu, logvar = L["enc_mu"](h), L["enc_logvar"](h)
            eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
            g = mu + torch.exp(0.5 * logvar) * eps
            for i in range(n_hidden):
                g = f.relu(L[f"dec_{i}"](g))
            if conv:
                rows, cols = image_shape[0] // 4, image_shape[1] // 4
                g = f.relu(L["dec_fc"](g)).reshape(x.shape[0], shape["dec.deconv0"][0], rows, cols)
                logits = L["dec_deconv1"](f.relu(L["dec_deconv0"](g))).reshape(x.shape[0], -1)
            else:
                logits = L["dec_out"](g)
            n = x.shape[0]
            recon = f.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
            kl = 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1).sum() / n
            return recon, kl

    return TorchVAE()


class Trainer:
    """Holds the torch model, optimizer, data and Generator of one benchmark run."""

    def __init__(self, params, train_x, test_x, *, batch_size: int, lr: float, seed: int,
                 image_shape: tuple[int, int] | None = None):
        import torch

        self.torch = torch
        self.model = build(params, image_shape)
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
