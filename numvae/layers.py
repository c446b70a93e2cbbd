"""Layers as forward/backward pairs, written by hand.

Every ``*_forward`` returns ``(out, cache)``; every ``*_backward`` takes the upstream
gradient ``dout`` (the gradient of a scalar loss with respect to ``out``) and that cache,
and returns the gradient(s) of the loss with respect to the inputs. Nothing is stored
anywhere else, so each pair can be checked alone against finite differences
(``tests/test_layers.py``). Shapes: ``N`` examples, ``D`` input features, ``M`` outputs.
All functions keep the dtype they are given.
"""

from __future__ import annotations

import numpy as np

from .plumbing.checks import as_float_array, check_finite, check_ndim, check_same_shape
from .subnormals import flush_subnormals


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Affine map  out = x W + b.

    Shapes: x (N, D), W (D, M), b (M,) -> out (N, M).
    Cache: (x, W), all the backward pass needs.
    """
    check_ndim("x", x, 2, "(N, D)")
    check_ndim("W", W, 2, "(D, M)")
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x has {x.shape[1]} features but W expects {W.shape[0]} (W {W.shape})")
    if b.shape != (W.shape[1],):
        raise ValueError(f"b must have shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}")
    out = x @ W
    out += b
    return out, (x, W)


def linear_backward(dout: np.ndarray, cache, compute_dx: bool = True, out=None):
    """Gradients of the affine map.

    With out = x W + b and upstream G = dL/dout (N, M):
        dL/dx = G W^T  (N, D),   dL/dW = x^T G  (D, M),   dL/db = sum_n G_n  (M,).
    ``compute_dx=False`` skips dL/dx (returned as None): the first layer of a network
    never needs the gradient with respect to the data, and it is a whole matrix product.
    ``out`` may be a pair of arrays (dW, db) to write the weight gradients into, so a
    model can keep all its gradients in one flat buffer without copying.
    Returns (dx, dW, db).
    """
    x, W = cache
    dx = dout @ W.T if compute_dx else None
    if out is None:
        dW = x.T @ dout
        db = dout.sum(axis=0)
    else:
        dW, db = out
        np.matmul(x.T, dout, out=dW)
        dout.sum(axis=0, out=db)  # the method: np.sum's wrapper costs 5 us a call (AMD EPYC)
    return dx, dW, db


def relu_forward(x: np.ndarray):
    """Rectified linear unit  out = max(x, 0), elementwise.

    Shapes: x (...) -> out (...). Cache: out itself (out > 0 marks where x > 0).
    """
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout: np.ndarray, cache) -> np.ndarray:
    """d max(x, 0)/dx = 1 where x > 0, else 0 (the kink at 0 takes the value 0).

    dx = dout * [x > 0], same shape as dout.
    """
    out = cache
    check_same_shape("dout", dout, "relu output", out)
    # A multiply by the 0/1 mask, not np.where(out > 0, dout, 0): same numbers, but
    # where() branches per element and is several times slower on a random pattern.
    return dout * (out > 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function  s(x) = 1 / (1 + exp(-x)), accurate for any x.

    Computed as written. For very negative x (below -88 in float32, -709 in float64)
    exp(-x) overflows to inf and 1 / (1 + inf) = 0, which is the right answer, so that
    overflow is silenced rather than avoided with a branch per element. Everywhere else
    each step is exact to a rounding (1 + exp(-x) >= 1 never cancels), so s(x) keeps
    its relative accuracy even where it is tiny, e.g. s(-50) = 1.9e-22. Subnormal results
    (below 1.2e-38 in float32) are flushed to 0: see ``numvae.subnormals``.
    """
    with np.errstate(over="ignore"):
        s = np.asarray(1 / (1 + np.exp(-np.asarray(x))))
    # s(x) is subnormal for -88.7 < x < -87.3 in float32 (-745 < x < -708 in float64), where
    # the logits of always-blank pixels drift in a long run; arithmetic on subnormals is up
    # to 15x slower on some processors, and values below 1e-38 are 0 to every use of s.
    flush_subnormals(s)
    return s if s.ndim else s[()]  # a scalar in, a scalar out


def sigmoid_forward(x: np.ndarray):
    """out = s(x) = 1 / (1 + exp(-x)). Shapes: (...) -> (...). Cache: out."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache) -> np.ndarray:
    """ds/dx = s(x) (1 - s(x)), so dx = dout * out * (1 - out)."""
    out = cache
    check_same_shape("dout", dout, "sigmoid output", out)
    return dout * out * (1 - out)


def tanh_forward(x: np.ndarray):
    """out = tanh(x). Shapes: (...) -> (...). Cache: out."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache) -> np.ndarray:
    """d tanh(x)/dx = 1 - tanh(x)^2, so dx = dout * (1 - out^2)."""
    out = cache
    check_same_shape("dout", dout, "tanh output", out)
    return dout * (1 - out * out)


def softplus(x: np.ndarray) -> np.ndarray:
    """softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)).

    The rewrite never exponentiates a large positive number, so it is finite and
    accurate for |x| up to the largest float; softplus(-x) = -log sigmoid(x).
    """
    tail = np.asarray(np.exp(-np.abs(x)))  # in (0, 1]; asarray: exp of a 0-d array is a scalar
    # exp(-|x|) is subnormal for |x| > 87.3 in float32 (the blank pixels' logits of a long
    # run), and log1p and the sums after it would carry it: see numvae.subnormals.
    flush_subnormals(tail)
    return np.maximum(x, 0) + log1p(tail)


def log1p(t: np.ndarray) -> np.ndarray:
    """log(1 + t) for t >= 0, as accurate as np.log1p, in passes NumPy vectorises.

    Computing 1 + t first loses t's low digits (all of them when t < eps / 2), so
    log(1 + t) alone is wrong for small t. With u = 1 + t as rounded,

        log1p(t) = log(u) - log(u / (1 + t)) ~ log(u) - ((u - 1) - t) / u

    where (u - 1) - t is exactly the rounding error of u (Kahan's correction; for t below
    eps / 2, u = 1 and the result is t itself). Measured against np.log1p over t in
    (0, 1]: at most 1 unit in the last place in float64 and 3.2 in float32.

    Why not np.log1p: NumPy's float32 log1p is not vectorised. For a (128, 784) batch it
    took 1.58 ms against 0.27 ms for log on an AMD EPYC (Zen 3), and it ran inside every
    training step's likelihood, 0.7 s of a 4.3 s MNIST epoch; this takes 0.4 ms.
    Shapes: any -> the same, dtype kept.
    """
    u = 1 + t
    return np.log(u) - ((u - 1) - t) / u


def softplus_forward(x: np.ndarray):
    """out = softplus(x) = log(1 + exp(x)). Shapes: (...) -> (...). Cache: x."""
    return softplus(x), x


def softplus_backward(dout: np.ndarray, cache) -> np.ndarray:
    """d softplus(x)/dx = sigmoid(x), so dx = dout * sigmoid(x)."""
    x = cache
    check_same_shape("dout", dout, "softplus input", x)
    return dout * sigmoid(x)


def elu_forward(x: np.ndarray, alpha: float = 1.0):
    """Exponential linear unit, elementwise (Clevert, Unterthiner, Hochreiter 2016):

        elu(x) = x                     for x > 0
                 alpha (exp(x) - 1)    for x <= 0

    Computed without a branch per element as max(x, 0) + alpha expm1(min(x, 0)):
    for x > 0 the second term is alpha expm1(0) = 0 exactly, for x <= 0 the first is 0.
    expm1 keeps full accuracy near 0 (exp(x) - 1 would cancel), and exponentiating
    min(x, 0) never overflows, so any finite x gives a finite output without warnings.
    alpha > 0 is the negative saturation value: elu(x) -> -alpha as x -> -inf.

    Shapes: x (...) -> out (...), dtype kept (alpha is a plain number, not an array).
    Cache: (out, alpha); out > 0 exactly where x > 0, and the slope is read off out.
    """
    if not 0 < alpha < np.inf:
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    alpha = float(alpha)  # a Python float: a NumPy float64 would turn float32 x into float64
    out = np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0))
    return out, (out, alpha)


def elu_backward(dout: np.ndarray, cache) -> np.ndarray:
    """d elu(x)/dx = 1 for x > 0,  alpha exp(x) = elu(x) + alpha for x <= 0.

    (At the kink x = 0 this takes the left value alpha; with alpha = 1 both sides agree
    and ELU is continuously differentiable.) dx = dout * slope, same shape as dout.
    The slope out + alpha is exact to a rounding of alpha in absolute terms, which is
    all a gradient needs: where it loses relative accuracy, alpha exp(x) < 1e-16 alpha.
    """
    out, alpha = cache
    check_same_shape("dout", dout, "elu output", out)
    # Two 0/1 masks instead of np.where (see relu_backward): 1 * 1 + 0 * (out + alpha)
    # on the positive side, 0 + 1 * (out + alpha) on the other, each exact.
    positive = out > 0
    slope = (out + alpha) * ~positive
    slope += positive
    return dout * slope


def relu_sigma_logvar_forward(s: np.ndarray, sigma_floor: float = 0.05):
    """The seed's variance head: sigma = ReLU(s) + floor, returned as a log-variance.

        sigma  = max(s, 0) + sigma_floor          (a standard deviation, never below the floor)
        logvar = 2 ln sigma                       (what the rest of the VAE speaks)

    Shapes: s (N, K) -> logvar (N, K). Returns (logvar, cache); the cache is (s, sigma).
    """
    s = as_float_array("s", s)
    check_finite("s", s)
    if not sigma_floor > 0:
        raise ValueError(f"sigma_floor must be positive, got {sigma_floor}")
    sigma = np.maximum(s, 0) + sigma_floor
    return 2 * np.log(sigma), (s, sigma)


def relu_sigma_logvar_backward(dlogvar: np.ndarray, cache) -> np.ndarray:
    """dlogvar/ds = 2 / sigma where s > 0, and 0 where s < 0 (the ReLU's flat side).

    ds = dlogvar * 2 / sigma where s > 0, else 0.  Shapes: (N, K) -> (N, K). A unit whose
    s is negative sits at sigma = floor and gets no gradient until s turns positive again:
    the price of the seed's choice.
    """
    s, sigma = cache
    dlogvar = as_float_array("dlogvar", dlogvar)
    check_same_shape("dlogvar", dlogvar, "s", s)
    return np.where(s > 0, dlogvar * 2 / sigma, 0)


def softplus_variance_logvar_forward(s: np.ndarray, variance_floor: float = 1e-8):
    """CS236's variance head: var = softplus(s) + floor, returned as a log-variance.

        var    = log(1 + exp(s)) + variance_floor   (a variance, positive for every s)
        logvar = ln var                             (what the rest of the VAE speaks)

    Stanford CS236's homework reads its encoder's second half this way
    (``gaussian_parameters``: ``F.softplus(h) + 1e-8``), hence the default floor. Unlike
    the seed's ReLU head no unit is ever cut off: every s gets a gradient.
    Shapes: s (N, K) -> logvar (N, K). Returns (logvar, cache); the cache is (s, var).
    """
    s = as_float_array("s", s)
    check_finite("s", s)
    if not variance_floor > 0:
        raise ValueError(f"variance_floor must be positive, got {variance_floor}")
    variance = softplus(s) + variance_floor
    return np.log(variance), (s, variance)


def softplus_variance_logvar_backward(dlogvar: np.ndarray, cache) -> np.ndarray:
    """dlogvar/ds = softplus'(s) / var = sigmoid(s) / var.

    ds = dlogvar * sigmoid(s) / var: the log's derivative 1 / var, then softplus's own
    backward. Shapes: (N, K) -> (N, K). For very negative s, sigmoid(s) ~ softplus(s) ~
    exp(s) and the slope tends to exp(s) / (exp(s) + floor): near 1 while exp(s) >> floor,
    then falling to 0 once the floor dominates.
    """
    s, variance = cache
    dlogvar = as_float_array("dlogvar", dlogvar)
    check_same_shape("dlogvar", dlogvar, "s", s)
    return softplus_backward(dlogvar / variance, s)
