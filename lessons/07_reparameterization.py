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

Run:  python lessons/07_reparameterization.py     (about 2 s)
Writes lessons/output/07_estimators.png: the per-sample gradient estimates of both
estimators around the exact gradient.
"""

from __future__ import annotations

import math
import sys

import _common
import matplotlib.pyplot as plt
import numpy as np

import numvae as nv

S = 100_000  # per-sample estimates drawn for each estimator


def summary(est: np.ndarray):
    """Mean, standard error and per-sample variance of (S, K) estimates, per component."""
    return est.mean(0), est.std(0, ddof=1) / math.sqrt(est.shape[0]), est.var(0, ddof=1)


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()

    _common.section("f(z) = ||z - c||^2 under q = N(mu, diag sigma^2), K = 3: the exact gradient is known")
    mu, target = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, -1.0])
    logvar = np.log(np.array([0.8, 0.5, 1.2]) ** 2)

    def f(z):
        return nv.squared_distance(z, target)[0]

    def grad_f(z):
        return nv.squared_distance(z, target)[1]

    _, exact_mu, exact_lv = nv.expected_squared_distance(mu, logvar, target)
    eps = rng.standard_normal((S, 3))
    baseline = float(f(nv.reparameterize(np.tile(mu, (1000, 1)), np.tile(logvar, (1000, 1)),
                                         rng.standard_normal((1000, 3)))).mean())  # from separate draws
    estimates = {
        "pathwise": nv.pathwise_gradient(grad_f, mu, logvar, eps),
        "score function": nv.score_function_gradient(f, mu, logvar, eps),
        "score + baseline": nv.score_function_gradient(f, mu, logvar, eps, baseline=baseline),
    }
    print(f"  exact d/dmu     = {np.round(exact_mu, 4)}")
    print(f"  exact d/dlogvar = {np.round(exact_lv, 4)}")
    variances = {}
    for name, (dmu, dlv) in estimates.items():
        (m_mu, se_mu, v_mu), (m_lv, se_lv, v_lv) = summary(dmu), summary(dlv)
        variances[name] = np.concatenate([v_mu, v_lv])
        z_scores = np.concatenate([np.abs(m_mu - exact_mu) / se_mu, np.abs(m_lv - exact_lv) / se_lv])
        print(f"  {name:<17} mean d/dmu {np.round(m_mu, 3)}  d/dlogvar {np.round(m_lv, 3)}")
        print(f"  {'':<17} per-sample variance {np.round(variances[name], 2)}")
        check(z_scores.max() < 4, f"{name}: unbiased, all 6 components within {z_scores.max():.1f} "
                                  f"standard errors of the exact gradient ({S} samples)")
    ratio = variances["score function"] / variances["pathwise"]
    check(np.all(ratio > 1), "the pathwise estimator has the smaller variance in every component: "
                             "score / pathwise = " + ", ".join(f"{r:.1f}" for r in ratio))
    ratio_b = variances["score + baseline"] / variances["pathwise"]
    check(np.all(ratio_b < ratio), "a baseline (E[f] from separate draws, subtracted from f) helps REINFORCE "
                                   "but does not close the gap: " + ", ".join(f"{r:.1f}" for r in ratio_b))

    z_check = eps[:1]
    numeric = nv.numerical_gradient(lambda m: f(nv.reparameterize(m[None], logvar[None], z_check))[0],
                                    mu.copy())
    err = nv.rel_error(estimates["pathwise"][0][0], numeric)
    check(err < 1e-6, f"with eps frozen, z = mu + sigma * eps is an ordinary function of mu: the pathwise "
                      f"sample is its derivative (rel. error against central differences {err:.1e})")

    _common.section("the latent dimension: f = ||z - c||^2 in K dimensions, estimating d/dmu_1")
    dims, ratios = (1, 10, 100), []
    for k in dims:
        mu_k, lv_k, c_k = np.zeros(k), np.zeros(k), np.ones(k)
        eps_k = rng.standard_normal((20_000, k))
        path = nv.pathwise_gradient(lambda z, c=c_k: nv.squared_distance(z, c)[1], mu_k, lv_k, eps_k)[0][:, 0]
        score = nv.score_function_gradient(lambda z, c=c_k: nv.squared_distance(z, c)[0], mu_k, lv_k, eps_k,
                                           baseline=2.0 * k)[0][:, 0]  # baseline = exact E[f] = 2K
        ratios.append(score.var() / path.var())
        print(f"  K = {k:3d}: per-sample variance pathwise {path.var():8.3f}   score function (baseline "
              f"E[f]) {score.var():10.3f}")
    check(all(a < b for a, b in zip(ratios, ratios[1:], strict=False)),
          "REINFORCE's variance grows with K while the pathwise one does not: ratio "
          + " -> ".join(f"{r:.1f}" for r in ratios))

    _common.section("a VAE-like objective: E_q[log p(x|z)] for a digit under a linear decoder, K = 2")
    train, _ = _common.load_data(False)
    x = train.x[:1].astype(np.float64)  # (1, 64)
    A, c = rng.standard_normal((2, 64)) * 1.5, rng.standard_normal(64) * 0.5
    mu2, lv2 = np.array([0.3, -0.2]), np.log(np.array([0.6, 0.4]) ** 2)

    def log_lik(z):
        logits, _ = nv.linear_forward(z, A, c)
        return nv.bernoulli_log_prob(np.broadcast_to(x, logits.shape), logits)

    def log_lik_grad(z):
        logits, cache = nv.linear_forward(z, A, c)
        dlogits = nv.bernoulli_log_prob_grad(np.broadcast_to(x, logits.shape), logits)
        return nv.linear_backward(dlogits, cache)[0]

    eps2 = rng.standard_normal((S, 2))
    path = np.hstack(nv.pathwise_gradient(log_lik_grad, mu2, lv2, eps2))
    b = float(log_lik(nv.reparameterize(np.tile(mu2, (1000, 1)), np.tile(lv2, (1000, 1)),
                                        rng.standard_normal((1000, 2)))).mean())
    score = np.hstack(nv.score_function_gradient(log_lik, mu2, lv2, eps2, baseline=b))
    (pm, pse, pv), (sm, sse, sv) = summary(path), summary(score)
    print(f"  log p(x|z) is about {b:.1f} nats; gradient w.r.t. (mu1, mu2, logvar1, logvar2):")
    print(f"  pathwise          {np.round(pm, 3)} +- {np.round(pse, 3)}")
    print(f"  score + baseline  {np.round(sm, 3)} +- {np.round(sse, 3)}")
    apart = np.abs(pm - sm) / np.hypot(pse, sse)
    check(apart.max() < 4, f"both estimate the same gradient: components {apart.max():.1f} combined "
                           "standard errors apart at most")
    check(np.all(sv > pv), "and REINFORCE needs more samples for the same precision, even with a baseline: "
                           "variance ratio " + ", ".join(f"{r:.0f}" for r in sv / pv))

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    panels = ((axes[0], 0, "d/dmu_1", exact_mu[0]), (axes[1], 1, "d/dlogvar_1", exact_lv[0]))
    for ax, part, label, exact in panels:
        lo, hi = np.percentile(estimates["score function"][part][:, 0], [1, 99])
        for name in ("pathwise", "score function", "score + baseline"):
            ax.hist(estimates[name][part][:, 0], bins=np.linspace(lo, hi, 150), density=True, histtype="step",
                    label=name)
        ax.axvline(exact, color="k", linestyle="--", label=f"exact {exact:.3f}")
        ax.set_title(f"per-sample estimates of {label} E_q ||z - c||^2")
        ax.set_xlabel("estimate")
        ax.legend(fontsize=8)
    _common.save_figure(fig, args.out / "07_estimators.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
