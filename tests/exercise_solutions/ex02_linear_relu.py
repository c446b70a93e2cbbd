"""Reference solution of exercise 2: numvae's layers, written out where mutants edit them."""

from __future__ import annotations

import numpy as np

import numvae as nv


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    return nv.linear_forward(x, W, b)


def linear_backward(dout: np.ndarray, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x: np.ndarray):
    return nv.relu_forward(x)


def relu_backward(dout: np.ndarray, cache) -> np.ndarray:
    return nv.relu_backward(dout, cache)
