"""A stack of Linear + activation layers, forward and backward, over named parameters.

Layer i of a stack called ``prefix`` reads ``params[f"{prefix}.{i}.W"]`` (D_i, D_{i+1})
and ``params[f"{prefix}.{i}.b"]`` (D_{i+1},). The encoder and the decoder of every model
here are such stacks followed by a plain linear layer (no activation) for their outputs.
The activation is ReLU, as in the lecture, unless a model asks for ELU or tanh (the
published setups that benchmarks/reproduce.py follows use them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .layers import (
    elu_backward,
    elu_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    tanh_backward,
    tanh_forward,
)
from .params import ParamDict
from .plumbing.checks import check_generator


def linear_shapes(name: str, fan_in: int, fan_out: int) -> dict[str, tuple[int, ...]]:
    """{name.W: (fan_in, fan_out), name.b: (fan_out,)}."""
    return {f"{name}.W": (fan_in, fan_out), f"{name}.b": (fan_out,)}


def mlp_shapes(prefix: str, sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of the ReLU stack sizes[0] -> sizes[1] -> ... -> sizes[-1]."""
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes.update(linear_shapes(f"{prefix}.{i}", fan_in, fan_out))
    return shapes


ACTIVATIONS = {  # name: (forward, backward), each a pair from layers.py
    "relu": (relu_forward, relu_backward),
    "elu": (elu_forward, elu_backward),
    "tanh": (tanh_forward, tanh_backward),
}


def mlp_forward(params, prefix: str, x: np.ndarray, n_layers: int, activation: str = "relu"):
    """h = f(... f(f(x W_0 + b_0) W_1 + b_1) ...), ``n_layers`` times, f = ``activation``.

    Shapes: x (N, D_0) -> h (N, D_n). Returns (h, caches), one cache per layer.
    """
    forward, _ = ACTIVATIONS[activation]
    caches = []
    h = x
    for i in range(n_layers):
        a, lin_cache = linear_forward(h, params[f"{prefix}.{i}.W"], params[f"{prefix}.{i}.b"])
        h, act_cache = forward(a)
        caches.append((lin_cache, act_cache))
    return h, caches


def mlp_backward(dh: np.ndarray, caches, grads, prefix: str, compute_dx: bool = True,
                 activation: str = "relu"):
    """Backward through ``mlp_forward`` (the same ``activation``): each dW, db into ``grads``.

    Shapes: dh (N, D_n) -> dx (N, D_0), or None when ``compute_dx`` is False (the input
    is the data, whose gradient nobody needs).
    """
    _, backward = ACTIVATIONS[activation]
    for i in reversed(range(len(caches))):
        lin_cache, act_cache = caches[i]
        da = backward(dh, act_cache)
        need_dx = compute_dx or i > 0
        dh, _, _ = linear_backward(
            da, lin_cache, compute_dx=need_dx,
            out=(grads[f"{prefix}.{i}.W"], grads[f"{prefix}.{i}.b"]),
        )
    return dh


def init_uniform(params, rng: np.random.Generator) -> None:
    """Fill every weight W and its bias b with U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    The default initialisation of PyTorch's ``nn.Linear`` and ``nn.Conv2d`` layers, so that
    numvae and the PyTorch baselines in ``benchmarks/`` start from the same distribution.
    fan_in is W's first axis for a linear layer (numvae's W is (in, out)), and
    prod(W.shape[1:]) for a 4-D convolution kernel, as PyTorch computes it for both
    kinds of convolution.
    """
    for name, W in params.items():
        if name.endswith(".W"):
            fan_in = W.shape[0] if W.ndim == 2 else int(np.prod(W.shape[1:]))
            bound = 1.0 / np.sqrt(fan_in)
            W[...] = rng.uniform(-bound, bound, size=W.shape)
            b = params[name[:-2] + ".b"]
            b[...] = rng.uniform(-bound, bound, size=b.shape)


def init_params(shapes: Mapping[str, tuple[int, ...]], rng: np.random.Generator,
                dtype=np.float32) -> ParamDict:
    """A fresh ParamDict of ``shapes``, every W and b drawn by ``init_uniform`` (others 0)."""
    params = ParamDict.zeros(shapes, dtype=dtype)
    init_uniform(params, check_generator("rng", rng))
    return params
