"""Exercise 10: write property tests that catch a broken KL.

A test with one hand-picked input checks one case; a *property* test (hypothesis) states
what must hold for every input and lets the computer search for a counterexample. Write
tests for KL(N(mu, diag exp(logvar)) || N(0, I)), the function of exercise 5.

Each test takes the KL under test as its first argument ``kl``, a function
(mu (N, K), logvar (N, K)) -> (N,), and draws its other arguments with @given:

    @given(q=gaussians())
    def test_something(kl, q):
        mu, logvar = q
        assert ...

The grader runs your tests against the correct KL, where every test must pass, and
against several broken KLs (the classic mistakes), where at least one must fail an
assertion (assert, np.testing.assert_allclose, ...) after calling kl. Your tests cannot
know which KL they are given: find properties that only the correct one has. numvae's own
KL (numvae.kl_standard_normal) is off limits while grading: a test that calls it fails. Ideas:
what sign must a KL have? When is it exactly 0? What happens to the KL of independent
dimensions (more columns)? Can you work one value out by hand? Does it agree with the
general formula, numvae.kl_mvn (exercise 6, allowed here), for a diagonal covariance?
How does it change as |mu| grows? Compare floats with a tolerance
(np.testing.assert_allclose), never with ==, except where the answer is exact.

Check your work:  python -m numvae exercises check . kl_properties
(needs hypothesis: pip install hypothesis)
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

moderate = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


@st.composite
def gaussians(draw, n=None, k=None):
    """(mu, logvar), each (N, K) float64 with entries in [-3, 3]: a batch of Gaussians q."""
    n = draw(st.integers(1, 4)) if n is None else n
    k = draw(st.integers(1, 5)) if k is None else k
    return (draw(arrays(np.float64, (n, k), elements=moderate)),
            draw(arrays(np.float64, (n, k), elements=moderate)))


@given(q=gaussians())
def test_kl_is_nonnegative(kl, q):
    """KL(q || p) >= 0 for every q."""
    raise NotImplementedError("exercise 10 (kl_properties): write test_kl_is_nonnegative")
