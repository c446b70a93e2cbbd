"""Hypothesis strategies shared by every property test (one place, as in minitorch).

Two families, for two kinds of property:

* **Value properties** (a KL is non-negative, a density matches scipy, an identity holds)
  draw continuous float64 values, tiny and awkward ones included: that is where such
  properties break.
* **Gradient checks** compare an analytic gradient with central differences,
  ``numvae.gradcheck.numerical_gradient`` (h = 1e-5), by ``rel_error`` < 1e-6 in float64.
  A correct gradient passes that only where the central difference can resolve it, so
  these strategies draw values on a grid of multiples of a step (1/16 or 1/4, exact in
  binary floating point) inside ranges chosen for two reasons, stated at each strategy:

  1. *No kink within h.* ReLU, the seed's sigma head and ELU have a kink at 0, where a
     central difference straddling it measures the average of two slopes. Grid values
     drawn away from 0 are at least one step (>> h) from it.
  2. *No gradient that is tiny but not zero.* Each loss value f carries a rounding error
     of about 1e-16 S, S the sum of the sizes of its terms, so the central difference
     has an absolute error of about 1e-16 S / h ~ 1e-11 S whatever the gradient is.
     Where every entry of the true gradient is, say, 1e-6 while S ~ 10, that is a
     relative error of 1e-4 for a correct derivation. Continuous strategies produce such
     points readily (x = 1 and mean = 1 - 1e-5, a weight matrix of 1e-7s). On a grid a
     difference x - m, a weight or a logvar is either exactly 0 or at least one step,
     so an entrywise gradient is either exactly 0 or bounded away from 0 (each strategy
     states the bound). An exactly zero gradient is checked in absolute terms
     (tests/gradients.py). Gradients that are sums which can cancel, or closed forms
     that the grid does not keep away from 0, are filtered with ``resolvable``.

  The upstream gradient ``dout`` of every check (loss = sum(dout * out)) weights each
  output entry by a different factor of magnitude 1/2 to 2 and either sign, so every
  entry of the Jacobian is exercised and none is weighted down to invisibility.

Shapes stay small (a handful of rows and columns): the central difference costs two
evaluations per input entry, and a wrong derivation shows up on a 2x3 array as surely
as on a 128x784 one.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

# --------------------------------------------------------------------------------------
# Value properties: continuous float64 values
# --------------------------------------------------------------------------------------

moderate_floats = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, width=64)
"""Any float64 in [-3, 3], 0 and tiny values included: means, targets, matrix entries."""

logvar_floats = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, width=64)
"""Log-variances in [-3, 3]: standard deviations from 0.22 to 4.5, the range an encoder
produces; wider ones make the Monte Carlo cross-checks of the KL need far more draws."""


@st.composite
def diagonal_gaussian(draw, n=None, k=None):
    """(mu, logvar), each (N, K) float64, N in 1..4, K in 1..5 unless given.

    mu from ``moderate_floats``, logvar from ``logvar_floats``: continuous values for the
    value properties of the KL (non-negativity, agreement between formulas, Monte Carlo).
    """
    n = draw(st.integers(1, 4)) if n is None else n
    k = draw(st.integers(1, 5)) if k is None else k
    mu = draw(arrays(np.float64, (n, k), elements=moderate_floats))
    logvar = draw(arrays(np.float64, (n, k), elements=logvar_floats))
    return mu, logvar


@st.composite
def spd_matrix(draw, k, entries=None):
    """A well-conditioned symmetric positive-definite (k, k) float64 matrix A A^T + 0.5 I.

    A has entries in [-1.5, 1.5] (any float there, or from ``entries`` if given), so the
    eigenvalues lie in [0.5, 0.5 + 2.25 k^2]: the +0.5 I keeps the condition number below
    ~5 k^2, far from where Cholesky solves lose digits.
    """
    entries = st.floats(-1.5, 1.5, allow_nan=False) if entries is None else entries
    a = draw(arrays(np.float64, (k, k), elements=entries))
    return a @ a.T + 0.5 * np.eye(k)


@st.composite
def mvn_pair(draw):
    """(mu0, cov0, mu1, cov1) for one pair of k-dimensional Gaussians, k in 1..4.

    Shapes mu (k,), cov (k, k); means from ``moderate_floats``, covariances from
    ``spd_matrix``: for the value properties of ``kl_mvn`` (its gradient check draws
    ``mvn_gradient_inputs``).
    """
    k = draw(st.integers(1, 4))
    mu0 = draw(arrays(np.float64, (k,), elements=moderate_floats))
    mu1 = draw(arrays(np.float64, (k,), elements=moderate_floats))
    return mu0, draw(spd_matrix(k)), mu1, draw(spd_matrix(k))


seeds = st.integers(0, 2**32 - 1)
"""A seed for ``numpy.random.default_rng`` in a Monte Carlo check: drawn by hypothesis,
so a failing seed is reported, shrunk and replayed like any other input."""


logit_vectors = arrays(np.float64, st.integers(2, 6), elements=st.floats(-5, 5, allow_nan=False))
"""Categorical logits (K,), K in 2..6, entries in [-5, 5]: probabilities from ~5e-5 up,
each group likely enough to be drawn in a sample of 50 (lesson 01's toy model)."""


# --------------------------------------------------------------------------------------
# Gradient checks: grid values (see the module docstring for why)
# --------------------------------------------------------------------------------------

def grid_floats(lo: float, hi: float, step: float = 1 / 16):
    """Multiples of ``step`` in [lo, hi], as float64 (exact: step is a power of 2)."""
    return st.integers(round(lo / step), round(hi / step)).map(lambda i: i * step)


def grid_floats_away_from_zero(hi: float, step: float = 1 / 16):
    """Non-zero multiples of ``step`` in [-hi, hi]: |value| >= step, far more than h = 1e-5
    from a kink at 0, so no central difference straddles it."""
    magnitudes = st.integers(1, round(hi / step)).map(lambda i: i * step)
    return st.tuples(st.sampled_from([-1.0, 1.0]), magnitudes).map(lambda t: t[0] * t[1])


def grid_arrays(shape, elements):
    """float64 arrays of ``shape`` (a tuple or a strategy), each entry drawn from ``elements``."""
    return arrays(np.float64, shape, elements=elements)


def upstream_gradients(shape):
    """``dout`` of ``shape``: entries +-[1/2, 2] on a grid of 1/16, never 0.

    Non-zero and of comparable size, so each output entry counts in loss = sum(dout * out)
    and a gradient entry cannot hide behind a zero weight; signs vary so that errors of
    opposite sign in two entries cannot cancel.
    """
    magnitudes = st.integers(8, 32).map(lambda i: i / 16)
    entries = st.tuples(st.sampled_from([-1.0, 1.0]), magnitudes).map(lambda t: t[0] * t[1])
    return arrays(np.float64, shape, elements=entries)


def matrix_shapes(max_rows: int = 4, max_cols: int = 5):
    """(N, D) with N in 1..max_rows, D in 1..max_cols: a batch of N examples."""
    return st.tuples(st.integers(1, max_rows), st.integers(1, max_cols))


elementwise_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
"""Any shape of 1 to 3 axes of 1 to 3 entries: elementwise layers take (...)."""


@st.composite
def linear_inputs(draw):
    """(x, W, b) with x (N, D), W (D, M), b (M,), N 1..4, D 1..5, M 1..4, float64.

    Entries on the 1/16 grid in [-2, 2], like dout's; a sum of products of two of them is
    a multiple of 1/256, so dx = dout W^T, dW = x^T dout and db = sum_n dout are exactly
    0 or at least 1/256 per entry.
    """
    n, d = draw(matrix_shapes())
    m = draw(st.integers(1, 4))
    values = grid_floats(-2, 2)
    return (draw(grid_arrays((n, d), values)), draw(grid_arrays((d, m), values)),
            draw(grid_arrays((m,), values)))


def activation_inputs(kink_at_zero: bool = False):
    """x (...) float64 for the elementwise layers, entries on the 1/16 grid in [-2.5, 2.5].

    The range stops at 2.5 because beyond it tanh' and sigmoid' fall towards 1e-2 and
    below while the outputs stay near 1, so the loss's rounding (module docstring, 2.)
    would start to count against 1e-6. ``kink_at_zero=True`` (relu, elu) draws
    |x| >= 1/16, never within h of the kink.
    """
    values = grid_floats_away_from_zero(2.5) if kink_at_zero else grid_floats(-2.5, 2.5)
    return grid_arrays(elementwise_shapes, values)


elu_alphas = st.sampled_from([0.1, 0.5, 1.0, 1.5, 1.6732632423543772, 3.0])
"""ELU's alpha: the default 1, SELU's 1.6733, and values either side (alpha scales the
negative side's value and slope, so any slip between alpha and 1 shows)."""


@st.composite
def bernoulli_inputs(draw):
    """(x, logits), each (N, D) float64, N 1..4, D 1..5.

    x: binary or grey levels k/4 in [0, 1] (the likelihood accepts both); logits: the
    1/4 grid in [-3, 3]. The gradient x - sigmoid(logit) is then exactly 0 (at x = 1/2,
    logit = 0) or at least 0.018 in size (checked over the whole grid). Finer grids
    come closer to x = sigmoid(logit): 1/16 for both, for instance, to 3e-4.
    """
    shape = draw(matrix_shapes())
    x = draw(grid_arrays(shape, grid_floats(0, 1, step=1 / 4)))
    logits = draw(grid_arrays(shape, grid_floats(-3, 3, step=1 / 4)))
    return x, logits


@st.composite
def logvar_shapes(draw, n: int, d: int):
    """A shape that broadcasts to (n, d) without growing it: (), (1 or d,), (1 or n, 1 or d).

    A Gaussian likelihood's logvar may be one number for all pixels, one per pixel, one
    per example or one per entry; its gradient comes back summed to that shape.
    """
    ndim = draw(st.integers(0, 2))
    if ndim == 0:
        return ()
    if ndim == 1:
        return (draw(st.sampled_from([1, d])),)
    return (draw(st.sampled_from([1, n])), draw(st.sampled_from([1, d])))


def resolvable(gradients, loss_terms, zero_is_exact: bool = True) -> bool:
    """Whether central differences can check each of ``gradients`` (closed forms computed
    by the strategy) to a relative error of 1e-6, given the terms of the loss.

    True when each gradient array is exactly 0 in every entry (the check is then
    absolute, tests/gradients.py; ``zero_is_exact=False`` when the function computes such
    a zero only to a rounding error, through solves, so that it must be excluded too)
    or has a largest entry of at least 1e-3 S,
    S = sum |loss_terms|: the central difference's rounding, ~1e-11 S (module
    docstring, 2.), is then below 1e-8 of it. Strategies whose gradients are sums that
    can cancel, or closed forms that can come arbitrarily close to 0 on the grid, filter
    their draws with it.
    """
    size = float(np.sum(np.abs(loss_terms)))
    return all((zero_is_exact and not np.any(g)) or np.max(np.abs(g)) >= 1e-3 * size for g in gradients)


def per_example_weights(n: int):
    """``dout`` of a per-example quantity such as log p(x_n), shape (N,), or None.

    None stands for dout = 1 (the functions' default); otherwise ``upstream_gradients``.
    """
    return st.none() | upstream_gradients((n,))


def _sum_to_shape(full: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum an (N, D) array over the axes along which an array of ``shape`` broadcasts."""
    ones = (1,) * (full.ndim - len(shape)) + tuple(shape)
    axes = tuple(i for i, (a, b) in enumerate(zip(ones, full.shape, strict=True)) if a == 1 and b != 1)
    return full.sum(axis=axes, keepdims=True).reshape(shape)


@st.composite
def gaussian_inputs(draw):
    """(x, mean, logvar, dout) for the diagonal Gaussian likelihood.

    x, mean (N, D), N 1..4, D 1..5; logvar of a ``logvar_shapes`` shape, or a plain
    Python float (which the likelihood treats as a scalar); dout from
    ``per_example_weights``. x, mean and logvar on the 1/4 grid in [-2, 2]. Then
    dmean = dout (x - m) e^{-logvar} is 0 or at least 0.017 per entry, and the per-entry
    dlogvar = dout ((x - m)^2 e^{-logvar} - 1) / 2 is 0 only at |x - m| = 1,
    logvar = 0, and otherwise at least 0.006 (checked over the grid).

    Excluded (``resolvable``): a logvar shared by several entries whose gradient, a sum
    of terms of both signs, cancels to almost nothing; and, should the grid ever allow
    it, an entrywise gradient that is tiny in every entry.
    """
    n, d = draw(matrix_shapes())
    values = grid_floats(-2, 2, step=1 / 4)
    x = draw(grid_arrays((n, d), values))
    mean = draw(grid_arrays((n, d), values))
    logvar = draw(grid_arrays(draw(logvar_shapes(n, d)), values))
    dout = draw(per_example_weights(n))
    w = np.ones((n, 1)) if dout is None else dout[:, None]
    q = (x - mean) ** 2 * np.exp(-logvar)  # (n, d)
    dmean = w * (x - mean) * np.exp(-logvar)
    dlogvar = _sum_to_shape(0.5 * w * (q - 1), logvar.shape)
    assume(resolvable([dmean, dlogvar], 0.5 * w * (np.log(2 * np.pi) + logvar + q)))
    if logvar.shape == () and draw(st.booleans()):
        logvar = float(logvar)
    return x, mean, logvar, dout


sigma_floors = st.sampled_from([0.05, 0.1, 1.0])
"""The sigma head's floor: the seed's 0.05, and larger ones (the slope 2 / sigma at
s > 0+ is 2 / floor, 40 for the seed's choice)."""


def sigma_head_inputs():
    """s (N, K) float64, the sigma head's pre-activation: |s| in [1/16, 3] on the 1/16 grid.

    Never within h of the kink of max(s, 0) at 0 (where the head's derivative jumps from
    0 to 2 / floor); up to 3 covers sigmas from the floor to 60 times it.
    """
    return grid_arrays(matrix_shapes(), grid_floats_away_from_zero(3))


def softplus_head_inputs():
    """s (N, K) float64, the softplus variance head's pre-activation: [-24, 6] on the 1/16 grid.

    The head is smooth everywhere, so 0 is allowed; below about -18 softplus(s) ~ exp(s)
    falls under CS236's floor of 1e-8, so the range covers both sides of where the floor
    takes over, and up to 6 the softplus's near-linear side.
    """
    return grid_arrays(matrix_shapes(), grid_floats(-24, 6))


@st.composite
def reparameterization_inputs(draw):
    """(mu, logvar, eps), each (N, K) float64, N 1..4, K 1..5.

    mu and logvar on the 1/16 grid in [-2, 2], eps (a standard normal draw, frozen) on the
    1/16 grid in [-3, 3]: dlogvar = dz exp(logvar / 2) eps / 2 is 0 where eps = 0 (and so
    is its central difference, exactly) and otherwise at least 0.006 in size.
    """
    shape = draw(matrix_shapes())
    return (draw(grid_arrays(shape, grid_floats(-2, 2))), draw(grid_arrays(shape, grid_floats(-2, 2))),
            draw(grid_arrays(shape, grid_floats(-3, 3))))


@st.composite
def kl_standard_normal_inputs(draw):
    """(mu, logvar, dout) for the gradients of KL(N(mu, diag exp(logvar)) || N(0, I)).

    mu, logvar (N, K), N 1..4, K 1..5, on the 1/16 grid in [-2, 2]; dout (N,) from
    ``per_example_weights``. The gradients dout mu and dout (exp(logvar) - 1) / 2 are
    then exactly 0 (at the prior, where the KL is minimal) or at least 0.015 per entry;
    draws where a small one meets a large loss are excluded (``resolvable``).
    """
    n, k = draw(matrix_shapes())
    mu = draw(grid_arrays((n, k), grid_floats(-2, 2)))
    logvar = draw(grid_arrays((n, k), grid_floats(-2, 2)))
    dout = draw(per_example_weights(n))
    w = np.ones((n, 1)) if dout is None else dout[:, None]
    terms = 0.5 * w * (mu**2 + np.exp(logvar) - logvar - 1)
    assume(resolvable([w * mu, 0.5 * w * np.expm1(logvar)], terms))
    return mu, logvar, dout


@st.composite
def kl_normal_inputs(draw):
    """(mu_q, logvar_q, mu_p, logvar_p, dout) for the gradients of KL(q || p), two
    diagonal Gaussians.

    All four (N, K), N 1..4, K 1..5, on the 1/16 grid in [-2, 2]; dout (N,) from
    ``per_example_weights``. dmu_q = (mu_q - mu_p) / v_p and dlogvar_q = (v_q / v_p - 1) / 2
    are 0 or at least 0.004 per entry, but dlogvar_p = (1 - (v_q + (mu_q - mu_p)^2) / v_p) / 2
    can come arbitrarily close to 0 on any grid: such draws, and those where a small
    gradient meets a large loss, are excluded (``resolvable``).
    """
    n, k = draw(matrix_shapes())
    mu_q, logvar_q, mu_p, logvar_p = (draw(grid_arrays((n, k), grid_floats(-2, 2))) for _ in range(4))
    dout = draw(per_example_weights(n))
    w = np.ones((n, 1)) if dout is None else dout[:, None]
    ratio, diff = np.exp(logvar_q - logvar_p), mu_q - mu_p
    dmu_q = w * diff * np.exp(-logvar_p)
    terms = 0.5 * w * (logvar_p - logvar_q + ratio + diff * diff * np.exp(-logvar_p) - 1)
    grads = [dmu_q, 0.5 * w * (ratio - 1), 0.5 * w * (1 - ratio) - 0.5 * diff * dmu_q]
    assume(resolvable(grads, terms))
    return mu_q, logvar_q, mu_p, logvar_p, dout


@st.composite
def mvn_gradient_inputs(draw):
    """(mu0, cov0, mu1, cov1) for the gradients of KL(N(mu0, cov0) || N(mu1, cov1)).

    k in 1..4; means (k,) on the 1/16 grid in [-2, 2], covariances from ``spd_matrix``
    with A on the 1/16 grid. The gradients (closed forms through explicit inverses, an
    independent route) vanish at mu0 = mu1, cov0 = cov1 and cov1 = cov0 + d d^T (the
    optimum over cov1), but through Cholesky solves only to a rounding error, and a
    grid can hit those points exactly: draws with any gradient below 1e-3 of the loss's
    terms are excluded (``resolvable``, ``zero_is_exact=False``).
    """
    k = draw(st.integers(1, 4))
    mu0, mu1 = (draw(grid_arrays((k,), grid_floats(-2, 2))) for _ in range(2))
    cov0, cov1 = (draw(spd_matrix(k, entries=grid_floats(-1.5, 1.5))) for _ in range(2))
    inv0, inv1 = np.linalg.inv(cov0), np.linalg.inv(cov1)
    d = (mu1 - mu0)[:, None]
    grads = [inv1 @ d, 0.5 * (inv1 - inv0), 0.5 * (inv1 - inv1 @ (cov0 + d @ d.T) @ inv1)]
    terms = 0.5 * np.array([np.trace(inv1 @ cov0), (d.T @ inv1 @ d).item(), k,
                            np.linalg.slogdet(cov1)[1], np.linalg.slogdet(cov0)[1]])
    assume(resolvable(grads, terms, zero_is_exact=False))
    return mu0, cov0, mu1, cov1


@st.composite
def categorical_samples_and_logits(draw):
    """(samples (N,) int64 in [0, K), logits (K,) float64), K in 2..6, N in 1..40.

    Logits on the 1/16 grid in [-3, 3]. The gradient c_k - N softmax(logits)_k vanishes
    where the model's probabilities equal the observed frequencies (the maximum-
    likelihood point, tested on its own) and is tiny near it, where the central
    difference cannot resolve it: such draws are excluded (``resolvable``).
    """
    k = draw(st.integers(2, 6))
    logits = draw(grid_arrays((k,), grid_floats(-3, 3)))
    samples = draw(arrays(np.int64, st.integers(1, 40), elements=st.integers(0, k - 1)))
    log_p = logits - logits.max() - np.log(np.sum(np.exp(logits - logits.max())))
    grad = np.bincount(samples, minlength=k) - samples.size * np.exp(log_p)
    assume(np.any(grad != 0) and resolvable([grad], log_p[samples]))
    return samples, logits


float32_any = st.floats(width=32, allow_nan=False, allow_infinity=False)
"""Any finite float32, from -3.4e38 to 3.4e38, subnormals included: for the dtype and
finiteness properties of the layers, which must hold far outside any gradient check's
range (exp overflows in float32 beyond 88)."""


def float32_arrays():
    """float32 arrays of an ``elementwise_shapes`` shape with ``float32_any`` entries."""
    return arrays(np.float32, elementwise_shapes, elements=float32_any)


# ----- data files ---------------------------------------------------------------------------
# Every dtype an IDX file can hold, in any shape up to 4 axes, empty axes included: the
# round trip must keep values, shape and dtype exactly.
idx_arrays = arrays(dtype=st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
                    shape=array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))

# ----- subnormal numbers ------------------------------------------------------------------------
# float32 logits from -120 to -80: sigmoid(l) and exp(-|l|) cross the subnormal range
# (below 1.2e-38) inside it, at l = -87.3 and l = -88.7 and down to 0 near l = -103.9.
very_negative_float32_logits = st.floats(-120.0, -80.0, width=32)


# ----- the learned mixture prior ------------------------------------------------------------
@st.composite
def mixture_prior_inputs(draw):
    """(z (M, K), means (C, K), logvars (C, K), logits (C,), dout (M,)) for the mixture's
    log p(z) gradients; M in 1..4, K in 1..3, C in 1..4.

    z and the means on a grid of 1/4 in [-2, 2], logvars and logits on 1/4 in [-1, 1]:
    the responsibilities then stay between about 1e-4 and 1, so no component's gradient
    is tiny but not zero. Draws where two components coincide exactly (the same mean,
    log-variance and logit: their gradients may cancel in the weights) are rejected.
    """
    m, k, c = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    z = draw(grid_arrays((m, k), grid_floats(-2, 2, 1 / 4)))
    means = draw(grid_arrays((c, k), grid_floats(-2, 2, 1 / 4)))
    logvars = draw(grid_arrays((c, k), grid_floats(-1, 1, 1 / 4)))
    logits = draw(grid_arrays((c,), grid_floats(-1, 1, 1 / 4)))
    rows = np.hstack([means, logvars, logits[:, None]])
    assume(len({tuple(r) for r in rows}) == c)
    return z, means, logvars, logits, draw(upstream_gradients((m,)))


# --- Convolutions (numvae.convolution) --------------------------------------------------
# Hypothesis draws the shapes and hyperparameters; the values are standard normal from a
# drawn seed, so that a gradient check never meets a near-zero kernel whose tiny true
# gradient drowns in the finite differences' rounding. Each case is a dict of keyword
# arguments: nv.conv2d_forward(**case).


@st.composite
def _conv_hyperparameters(draw):
    """Kernel (KH, KW) in 1..4 and stride in 1..3: ints when square, else (rows, columns) pairs."""
    if draw(st.booleans()):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        return (k, k), (s, s), True
    return ((draw(st.integers(1, 4)), draw(st.integers(1, 4))),
            (draw(st.integers(1, 3)), draw(st.integers(1, 3))), False)


def _normal_arrays(draw, *shapes):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return [rng.standard_normal(shape) for shape in shapes]


@st.composite
def conv2d_case(draw, max_extra=4):
    """{x, W, b, stride, padding} for conv2d_forward, float64, small enough to check.

    x (N, C_in, H, W) with N in 1..2, channels in 1..3, padding in 0..2, and H, W from
    the smallest that fits the kernel (KH - 2 ph, at least 1) to ``max_extra`` more.
    """
    (kh, kw), (sh, sw), square = draw(_conv_hyperparameters())
    ph = draw(st.integers(0, 2))
    pw = ph if square else draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), max(1, kh - 2 * ph) + max_extra))
    w = draw(st.integers(max(1, kw - 2 * pw), max(1, kw - 2 * pw) + max_extra))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, W, b = _normal_arrays(draw, (n, c_in, h, w), (c_out, c_in, kh, kw), (c_out,))
    stride, padding = ((sh, ph) if square else ((sh, sw), (ph, pw)))
    return {"x": x, "W": W, "b": b, "stride": stride, "padding": padding}


@st.composite
def conv_transpose2d_case(draw, max_size=5):
    """{x, W, b, stride, padding, output_padding} for conv_transpose2d_forward, float64.

    x (N, C_in, H, W) with H, W in 1..``max_size``; output_padding below the stride;
    padding in 0..2 but never so large that the output (H - 1) s - 2 p + K + op is empty.
    """
    (kh, kw), (sh, sw), square = draw(_conv_hyperparameters())
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    oph = draw(st.integers(0, sh - 1))
    opw = oph if square else draw(st.integers(0, sw - 1))
    ph = draw(st.integers(0, min(2, ((h - 1) * sh + kh + oph - 1) // 2)))
    pw = draw(st.integers(0, min(2, ((w - 1) * sw + kw + opw - 1) // 2)))
    if square:
        w, pw = h, ph
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, W, b = _normal_arrays(draw, (n, c_in, h, w), (c_in, c_out, kh, kw), (c_out,))
    stride, padding, output_padding = (sh, ph, oph) if square else ((sh, sw), (ph, pw), (oph, opw))
    return {"x": x, "W": W, "b": b, "stride": stride, "padding": padding, "output_padding": output_padding}
