# %%
"""Lesson 07: the reparameterization trick, z = mu + sigma * eps, against REINFORCE.

Training a VAE needs the gradient of E_{z ~ q(z|x)}[f(z)] with respect to the encoder's
mu and sigma, but "z is a random draw" has no derivative. The seed's trick runs the
standardisation backwards: draw eps ~ N(0, I), which depends on nothing, and set
z = mu + sigma * eps. Then z is a smooth function of (mu, sigma) and the gradient flows
through it (the pathwise estimator). The older alternative is the score-function
estimator (REINFORCE): E_q[f(z) d/dtheta log q(z)], which needs only values of f.

Both are unbiased; the lesson checks that on a function whose expectation is known
exactly, measures their variances (the reason every VAE uses the trick), shows the gap
growing with the latent dimension, and repeats the comparison on a VAE-like objective:
the log-likelihood of a digit under a linear decoder.

Shows: z = mu + sigma * eps against REINFORCE: both unbiased, variances measured.
Run:  python lessons/07_reparameterization.py     (about 6 s)
Writes lessons/output/07_estimators.png: the per-sample gradient estimates of both
estimators around the exact gradient.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 07: the reparameterization trick
#
# The encoder outputs $\mu$ and $\sigma$, and the loss needs a code $z$ drawn from
# $q(z|x) = \mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)$. A random-number generator has no
# backward pass, so as the lecture says, drawing $z$ directly would stop training. The
# trick runs the standardisation of a normal variable backwards: if
# $\epsilon = (z - \mu)/\sigma$ is standard normal, then
#
# $$z = \mu + \sigma \odot \epsilon, \qquad \epsilon \sim \mathcal{N}(0, I).$$
#
# $\epsilon$ depends on no parameter and can be stored in the forward pass; $z$ is then a
# product and a sum of $\mu$, $\sigma$ and $\epsilon$, and the backward pass goes through
# it. The gradient of an expectation becomes an expectation of gradients (the
# **pathwise** estimator):
#
# $$\frac{\partial}{\partial \mu}\, \mathbb{E}_{q}[f(z)] = \mathbb{E}_{\epsilon}[f'(z)],
#   \qquad \frac{\partial}{\partial \ln \sigma^2}\, \mathbb{E}_{q}[f(z)]
#   = \mathbb{E}_{\epsilon}\left[f'(z)\, \frac{\sigma\, \epsilon}{2}\right].$$
#
# The older alternative, the **score-function** estimator (REINFORCE), uses
# $\nabla_\theta q = q\, \nabla_\theta \log q$ and needs only values of $f$:
#
# $$\nabla_\theta\, \mathbb{E}_q[f(z)] = \mathbb{E}_q\big[(f(z) - c)\, \nabla_\theta
#   \log q(z)\big]$$
#
# for any constant baseline $c$. Both are unbiased. The lesson measures their variances,
# which is why every VAE uses the trick.

# %%
S = 100_000  # per-sample estimates drawn for each estimator
MU = np.array([0.5, -1.0, 2.0])  # (K,) the q of the first test, K = 3
LOGVAR = np.log(np.array([0.8, 0.5, 1.2]) ** 2)  # (K,)
TARGET = np.array([1.0, 0.0, -1.0])  # (K,) c in f(z) = ||z - c||^2


def f(z: np.ndarray) -> np.ndarray:
    """f(z) = ||z - c||^2 per row: (S, K) -> (S,)."""
    return nv.squared_distance(z, TARGET)[0]


def grad_f(z: np.ndarray) -> np.ndarray:
    """f'(z) = 2 (z - c): (S, K) -> (S, K)."""
    return nv.squared_distance(z, TARGET)[1]


def summary(est: np.ndarray):
    """Mean, standard error and per-sample variance of (S, K) estimates, per component (K,)."""
    return est.mean(0), est.std(0, ddof=1) / math.sqrt(est.shape[0]), est.var(0, ddof=1)


# %% [markdown]
# ## A function whose expected gradient is known
#
# For $f(z) = \|z - c\|^2$ under $q = \mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)$,
# $\mathbb{E}_q[f] = \|\mu - c\|^2 + \sum_j \sigma_j^2$, so the exact gradient is
# $2(\mu - c)$ for $\mu$ and $\sigma^2$ for $\ln \sigma^2$. $S = 100000$ per-sample
# estimates of each estimator must average to it, within their standard errors; a
# baseline $c \approx \mathbb{E}[f]$ (from separate draws, so it stays a constant) helps
# REINFORCE but does not close the gap.

# %%
def check_known_gradient(rng: np.random.Generator, check) -> dict:
    """Pathwise, score function and score + baseline: unbiased; their variances compared."""
    _common.section("f(z) = ||z - c||^2 under q = N(mu, diag sigma^2), K = 3: the exact gradient "
                    "is known")
    _, exact_mu, exact_lv = nv.expected_squared_distance(MU, LOGVAR, TARGET)  # (K,) each
    eps = rng.standard_normal((S, 3))  # (S, K)
    z_separate = nv.reparameterize(np.tile(MU, (1000, 1)), np.tile(LOGVAR, (1000, 1)),
                                   rng.standard_normal((1000, 3)))  # (1000, K)
    baseline = float(f(z_separate).mean())  # from separate draws
    estimates = {  # name -> (dmu (S, K), dlogvar (S, K))
        "pathwise": nv.pathwise_gradient(grad_f, MU, LOGVAR, eps),
        "score function": nv.score_function_gradient(f, MU, LOGVAR, eps),
        "score + baseline": nv.score_function_gradient(f, MU, LOGVAR, eps, baseline=baseline),
    }
    print(f"  exact d/dmu     = {np.round(exact_mu, 4)}")
    print(f"  exact d/dlogvar = {np.round(exact_lv, 4)}")
    variances = {}
    for name, (dmu, dlv) in estimates.items():
        (m_mu, se_mu, v_mu), (m_lv, se_lv, v_lv) = summary(dmu), summary(dlv)
        variances[name] = np.concatenate([v_mu, v_lv])  # (2K,)
        z_scores = np.concatenate([np.abs(m_mu - exact_mu) / se_mu,
                                   np.abs(m_lv - exact_lv) / se_lv])  # (2K,)
        print(f"  {name:<17} mean d/dmu {np.round(m_mu, 3)}  d/dlogvar {np.round(m_lv, 3)}")
        print(f"  {'':<17} per-sample variance {np.round(variances[name], 2)}")
        check(z_scores.max() < 4, f"{name}: unbiased, all 6 components within "
                                  f"{z_scores.max():.1f} standard errors of the exact gradient "
                                  f"({S} samples)")
    ratio = variances["score function"] / variances["pathwise"]  # (2K,)
    check(np.all(ratio > 1), "the pathwise estimator has the smaller variance in every component: "
                             "score / pathwise = " + ", ".join(f"{r:.1f}" for r in ratio))
    ratio_b = variances["score + baseline"] / variances["pathwise"]  # (2K,)
    check(np.all(ratio_b < ratio),
          "a baseline (E[f] from separate draws, subtracted from f) helps REINFORCE but does not "
          "close the gap: " + ", ".join(f"{r:.1f}" for r in ratio_b))
    return {"eps": eps, "estimates": estimates, "exact_mu": exact_mu, "exact_lv": exact_lv}


# %% [markdown]
# With $\epsilon$ frozen, $z = \mu + \sigma \epsilon$ is an ordinary function of $\mu$,
# and one pathwise sample is exactly its derivative: central differences agree.

# %%
def check_frozen_eps(known: dict, check) -> None:
    """One pathwise sample is the derivative of f(mu + sigma * eps) with eps fixed."""
    z_check = known["eps"][:1]  # (1, K)
    numeric = nv.numerical_gradient(lambda m: f(nv.reparameterize(m[None], LOGVAR[None],
                                                                  z_check))[0], MU.copy())
    err = nv.rel_error(known["estimates"]["pathwise"][0][0], numeric)
    check(err < 1e-6, f"with eps frozen, z = mu + sigma * eps is an ordinary function of mu: the "
                      f"pathwise sample is its derivative (rel. error against central differences "
                      f"{err:.1e})")


# %% [markdown]
# ## The latent dimension
#
# REINFORCE multiplies $f(z)$, which sums over all $K$ dimensions, by the score of one
# dimension: the other $K - 1$ dimensions only add noise. The pathwise estimate of
# $\partial / \partial \mu_1$ sees only $f$'s slope along $z_1$. Here $\mu = 0$,
# $\sigma = 1$, $c = \mathbf{1}$, and REINFORCE gets the exact baseline
# $\mathbb{E}[f] = 2K$.

# %%
def check_latent_dimension(rng: np.random.Generator, check) -> None:
    """REINFORCE's variance grows with K; the pathwise one does not."""
    _common.section("the latent dimension: f = ||z - c||^2 in K dimensions, estimating d/dmu_1")
    dims, ratios = (1, 10, 100), []
    for k in dims:
        mu_k, lv_k, c_k = np.zeros(k), np.zeros(k), np.ones(k)  # (K,) each
        eps_k = rng.standard_normal((20_000, k))  # (20000, K)
        path = nv.pathwise_gradient(lambda z, c=c_k: nv.squared_distance(z, c)[1], mu_k, lv_k,
                                    eps_k)[0][:, 0]  # (20000,) estimates of d/dmu_1
        score = nv.score_function_gradient(lambda z, c=c_k: nv.squared_distance(z, c)[0], mu_k,
                                           lv_k, eps_k, baseline=2.0 * k)[0][:, 0]  # (20000,)
        ratios.append(score.var() / path.var())
        print(f"  K = {k:3d}: per-sample variance pathwise {path.var():8.3f}   score function "
              f"(baseline E[f]) {score.var():10.3f}")
    check(all(a < b for a, b in zip(ratios, ratios[1:], strict=False)),
          "REINFORCE's variance grows with K while the pathwise one does not: ratio "
          + " -> ".join(f"{r:.1f}" for r in ratios))


# %% [markdown]
# ## A VAE-like objective
#
# The VAE's reconstruction term, $\mathbb{E}_q[\log p(x|z)]$ for one digit $x$ under a
# linear decoder with Bernoulli pixels, $\mathrm{logits} = zA + c$, in $K = 2$. Its exact
# gradient is unknown, but both estimators must agree on it, and REINFORCE (even with a
# baseline) needs many more samples for the same precision.

# %%
def check_vae_objective(rng: np.random.Generator, check) -> None:
    """Both estimators agree on d/d(mu, logvar) E_q[log p(x|z)]; REINFORCE is noisier."""
    _common.section("a VAE-like objective: E_q[log p(x|z)] for a digit under a linear decoder, "
                    "K = 2")
    train, _ = _common.load_data(False)
    x = train.x[:1].astype(np.float64)  # (1, 64)
    A, c = rng.standard_normal((2, 64)) * 1.5, rng.standard_normal(64) * 0.5  # (2, 64), (64,)
    mu2, lv2 = np.array([0.3, -0.2]), np.log(np.array([0.6, 0.4]) ** 2)  # (2,) each

    def log_lik(z):  # (S, 2) -> (S,)
        logits, _ = nv.linear_forward(z, A, c)  # (S, 64)
        return nv.bernoulli_log_prob(np.broadcast_to(x, logits.shape), logits)

    def log_lik_grad(z):  # (S, 2) -> (S, 2)
        logits, cache = nv.linear_forward(z, A, c)  # (S, 64)
        dlogits = nv.bernoulli_log_prob_grad(np.broadcast_to(x, logits.shape), logits)
        return nv.linear_backward(dlogits, cache)[0]

    eps2 = rng.standard_normal((S, 2))  # (S, 2)
    path = np.hstack(nv.pathwise_gradient(log_lik_grad, mu2, lv2, eps2))  # (S, 4)
    b = float(log_lik(nv.reparameterize(np.tile(mu2, (1000, 1)), np.tile(lv2, (1000, 1)),
                                        rng.standard_normal((1000, 2)))).mean())
    score = np.hstack(nv.score_function_gradient(log_lik, mu2, lv2, eps2, baseline=b))  # (S, 4)
    (pm, pse, pv), (sm, sse, sv) = summary(path), summary(score)
    print(f"  log p(x|z) is about {b:.1f} nats; gradient w.r.t. (mu1, mu2, logvar1, logvar2):")
    print(f"  pathwise          {np.round(pm, 3)} +- {np.round(pse, 3)}")
    print(f"  score + baseline  {np.round(sm, 3)} +- {np.round(sse, 3)}")
    apart = np.abs(pm - sm) / np.hypot(pse, sse)  # (4,)
    check(apart.max() < 4, f"both estimate the same gradient: components {apart.max():.1f} "
                           "combined standard errors apart at most")
    check(np.all(sv > pv),
          "and REINFORCE needs more samples for the same precision, even with a baseline: "
          "variance ratio " + ", ".join(f"{r:.0f}" for r in sv / pv))


# %% [markdown]
# ## The figure
#
# Histograms of the per-sample estimates of $\partial / \partial \mu_1$ and
# $\partial / \partial \ln \sigma_1^2$ from the first test: all three centred on the
# exact value, the pathwise one far narrower.

# %%
def draw_figure(known: dict, out) -> None:
    estimates = known["estimates"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    panels = ((axes[0], 0, "d/dmu_1", known["exact_mu"][0]),
              (axes[1], 1, "d/dlogvar_1", known["exact_lv"][0]))
    for ax, part, label, exact in panels:
        lo, hi = np.percentile(estimates["score function"][part][:, 0], [1, 99])
        for name in ("pathwise", "score function", "score + baseline"):
            ax.hist(estimates[name][part][:, 0], bins=np.linspace(lo, hi, 150), density=True,
                    histtype="step", label=name)
        ax.axvline(exact, color="k", linestyle="--", label=f"exact {exact:.3f}")
        ax.set_title(f"per-sample estimates of {label} E_q ||z - c||^2")
        ax.set_xlabel("estimate")
        ax.legend(fontsize=8)
    _common.save_figure(fig, out / "07_estimators.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    known = check_known_gradient(rng, check)
    check_frozen_eps(known, check)
    check_latent_dimension(rng, check)
    check_vae_objective(rng, check)
    draw_figure(known, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
