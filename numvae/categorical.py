"""A categorical distribution over groups of images: the seed's first picture.

The lecture note opens with p_data(x) drawn as bars over groups of face images: few
men with glasses, more women with black hair, most blond women, and no probability at
all for images that are not faces. A generative model p_model is a second set of bars,
and learning means moving them onto the first. With K groups the model is

    p_model(k) = softmax(theta)_k = exp(theta_k) / sum_j exp(theta_j),

fitted to samples s_1..s_N from p_data by maximum likelihood. The mean log-likelihood
and the KL divergence are tied by

    1/N sum_n log p_model(s_n) = -H(p_hat) - KL(p_hat || p_model),

where p_hat is the empirical distribution of the samples: maximising the likelihood is
exactly minimising KL(p_hat || p_model), and its maximiser is p_hat itself.
"""

from __future__ import annotations

import numpy as np

from .plumbing.checks import as_float_array, check_finite, check_generator, check_ndim, check_positive_int


def _check_logits(logits) -> np.ndarray:
    logits = as_float_array("logits", logits)
    check_ndim("logits", logits, 1, "(K,)")
    check_finite("logits", logits)
    return logits


def _check_samples(samples, k: int) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.dtype.kind not in "iu":
        raise TypeError(f"samples must be integer group indices, got dtype {samples.dtype}")
    check_ndim("samples", samples, 1, "(N,)")
    if samples.size and (samples.min() < 0 or samples.max() >= k):
        raise ValueError(
            f"samples must lie in [0, {k - 1}] for {k} groups, "
            f"got values in [{samples.min()}, {samples.max()}]"
        )
    return samples


def _check_probabilities(name: str, p) -> np.ndarray:
    p = as_float_array(name, p)
    check_ndim(name, p, 1, "(K,)")
    check_finite(name, p)
    if p.size == 0 or p.min() < 0 or abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"{name} must be non-negative and sum to 1, got sum {p.sum():.6g}")
    return p


def softmax(logits: np.ndarray) -> np.ndarray:
    """p_k = exp(theta_k - m) / sum_j exp(theta_j - m), m = max theta (no overflow).

    Shapes: logits (K,) -> probabilities (K,).
    """
    logits = _check_logits(logits)
    e = np.exp(logits - logits.max())
    return e / e.sum()


def categorical_log_prob(samples: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """log p_model(s_n) = theta_{s_n} - log sum_j exp(theta_j), one value per sample.

    Shapes: samples (N,) integers in [0, K), logits (K,) -> (N,).
    """
    logits = _check_logits(logits)
    samples = _check_samples(samples, logits.size)
    m = logits.max()
    log_norm = m + np.log(np.sum(np.exp(logits - m)))
    return logits[samples] - log_norm


def categorical_log_prob_grad(samples: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Gradient of sum_n log p_model(s_n) with respect to the logits.

        d/dtheta_k sum_n [theta_{s_n} - log sum_j exp(theta_j)] = c_k - N p_k,

    with c_k the number of samples in group k: the gradient is zero exactly when the
    model's probabilities equal the observed frequencies c_k / N.
    Shapes: samples (N,), logits (K,) -> (K,).
    """
    logits = _check_logits(logits)
    samples = _check_samples(samples, logits.size)
    counts = np.bincount(samples, minlength=logits.size).astype(logits.dtype)
    return counts - samples.size * softmax(logits)


def categorical_mle(samples: np.ndarray, k: int) -> np.ndarray:
    """The maximum-likelihood probabilities: the observed frequencies c_k / N.

    Shapes: samples (N,) integers in [0, k) -> (k,).
    """
    k = check_positive_int("k", k)
    samples = _check_samples(samples, k)
    if samples.size == 0:
        raise ValueError("samples must hold at least one sample")
    return np.bincount(samples, minlength=k) / samples.size


def sample_categorical(probs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n group indices drawn independently with P(k) = probs[k].  -> (n,) int64."""
    probs = _check_probabilities("probs", probs)
    n = check_positive_int("n", n)
    check_generator("rng", rng)
    return rng.choice(probs.size, size=n, p=probs).astype(np.int64)


def categorical_entropy(p: np.ndarray) -> float:
    """H(p) = -sum_k p_k log p_k, with 0 log 0 = 0.  Shapes: (K,) -> float (nats)."""
    p = _check_probabilities("p", p)
    nz = p > 0
    return float(-np.sum(p[nz] * np.log(p[nz])))


def kl_categorical(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = sum_k p_k log(p_k / q_k), in nats.

    Terms with p_k = 0 contribute 0 (a model may put mass where the data has none, at
    a price paid elsewhere); a group with p_k > 0 but q_k = 0 makes the KL infinite
    (the model can never produce an image the data contains).
    Shapes: p (K,), q (K,) -> float >= 0.
    """
    p = _check_probabilities("p", p)
    q = _check_probabilities("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    nz = p > 0
    if np.any(q[nz] == 0):
        return float("inf")
    return float(np.sum(p[nz] * (np.log(p[nz]) - np.log(q[nz]))))
