# %%
"""Lesson 03: a latent-variable model's p(x) = integral p(z) p(x|z) dz, and why it is hard.

The VAE draws a code z from p(z) = N(0, I) and decodes it. The probability of an image is
then an integral over every code, and the seed calls it intractable. The integral is an
expectation, p(x) = E_{z ~ p(z)}[p(x|z)], so Monte Carlo can estimate it, but almost no
code drawn from the prior explains a given x. Importance sampling draws codes from a
proposal q(z|x) near the posterior instead and reweights them:

    p(x) = E_{z ~ q(z|x)} [ p(x|z) p(z) / q(z|x) ].

Both estimators have the same expectation, p(x); their variances differ by orders of
magnitude. The lesson measures this on the linear-Gaussian model (where p(x) is known
exactly), shows the naive estimator failing as the latent dimension grows, and repeats
the comparison on a trained VAE, whose encoder is the proposal.

Shows: p(x) = integral p(z) p(x|z) dz: naive Monte Carlo from p(z) against importance
       sampling from q(z|x), same mean, variances measured.
Run:  python lessons/03_latent_variable_models.py     (about 8 s)
Writes lessons/output/03_weights.png: where the prior's and the proposal's codes fall
against the true posterior, and how the importance weights spread.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 03: latent-variable models, and why $p(x)$ is hard
#
# The VAE's authors generate an image in two steps: draw a code $z$ from a simple
# distribution, the standard Gaussian $p(z) = \mathcal{N}(0, I)$, and feed it to a decoder
# that outputs $p_\theta(x \mid z)$. The probability of an image then sums over every code
# that could have produced it (the law of total probability):
#
# $$p_\theta(x) = \int p_\theta(z)\, p_\theta(x \mid z)\, dz.$$
#
# The lecture calls this **intractable**: $p(x \mid z)$ cannot be evaluated for every
# $z$, so $p(x)$ is unknown and maximum likelihood cannot be run on it. So is the
# posterior, the distribution of the codes that explain a given image, by Bayes' rule:
#
# $$p_\theta(z \mid x) = \frac{p_\theta(x \mid z)\, p_\theta(z)}{p_\theta(x)}.$$
#
# The integral is an expectation, $p(x) = \mathbb{E}_{z \sim p(z)}[p(x \mid z)]$, so
# Monte Carlo can estimate it: average $p(x \mid z)$ over codes from the prior. The
# trouble is that almost no code drawn from the prior explains a given $x$. The lecture's
# way out is an encoder $q(z \mid x)$, a Gaussian whose mean and standard deviation a
# network outputs, that approximates the posterior (variational inference). With such a
# $q$, **importance sampling** draws codes where they matter and reweights them:
#
# $$p(x) = \mathbb{E}_{z \sim q(z \mid x)}\left[\frac{p(x \mid z)\, p(z)}{q(z \mid x)}\right].$$
#
# Both averages have the expectation $p(x)$; this lesson measures how differently they
# spread. The linear-Gaussian model ($p(x \mid z) = \mathcal{N}(Wz + b, s^2 I)$) is used
# first because in it $p(x)$ and $p(z \mid x)$ are known exactly.

# %%
N_REPEATS, N_PER_ESTIMATE = 2000, 100  # 2000 estimates of p(x), each from 100 codes
WIDEN = 2.0  # the proposal's variances are twice the posterior's: a deliberately imperfect encoder


def weights(lg: nv.LinearGaussian, x: np.ndarray, n: int, rng: np.random.Generator):
    """log of w / p(x) for n codes from the prior (naive) and from the proposal (importance).

    Returns (log_w_naive (n,), log_w_importance (n,), z_prior (n, K), z_proposal (n, K),
    (posterior mean (K,), posterior covariance (K, K))).
    """
    log_px = lg.log_marginal(x)[0]
    k = lg.latent_dim
    post_mean, post_cov = lg.posterior(x)  # (1, K), (K, K)
    q_mean = np.broadcast_to(post_mean, (n, k))  # (n, K)
    q_logvar = np.broadcast_to(np.log(WIDEN * np.diag(post_cov)), (n, k))  # (n, K)
    xs = np.broadcast_to(x, (n, lg.data_dim))  # (n, D)
    z_prior = rng.standard_normal((n, k))  # (n, K)
    log_naive = lg.log_likelihood(xs, z_prior) - log_px  # (n,) w = p(x|z)
    z_q = nv.reparameterize(q_mean, q_logvar, rng.standard_normal((n, k)))  # (n, K)
    # (n,) w = p(x|z) p(z) / q(z|x)
    log_is = lg.log_joint(xs, z_q) - nv.gaussian_log_prob(z_q, q_mean, q_logvar) - log_px
    return log_naive, log_is, z_prior, z_q, (post_mean[0], post_cov)


# %% [markdown]
# ## Naive against importance sampling, where $p(x)$ is known
#
# $K = 2$ latent dimensions, $D = 8$ observed. Each estimate averages $S = 100$ weights,
# $\hat p(x) = \frac{1}{S} \sum_s w_s$, with $w_s = p(x \mid z_s)$, $z_s \sim p(z)$ (naive)
# or $w_s = p(x \mid z_s) p(z_s) / q(z_s \mid x)$, $z_s \sim q(z \mid x)$ (importance).
# The proposal is the true posterior with its variances doubled: an encoder that is close
# but not perfect. Dividing by the exact $p(x)$, both estimates should average 1. The
# *effective sample size* $(\sum_s w_s)^2 / (S \sum_s w_s^2)$ says which fraction of the
# codes actually carries the estimate.

# %%
def check_estimators(rng: np.random.Generator, check) -> dict:
    """Both estimators are unbiased on the linear-Gaussian model; their variances differ."""
    _common.section("a linear-Gaussian model: K = 2 latent, D = 8 observed, p(x) known exactly")
    lg = nv.LinearGaussian.random(data_dim=8, latent_dim=2, rng=rng, noise_std=0.5)
    x, _ = lg.sample(1, rng)  # (1, 8)
    log_px = lg.log_marginal(x)[0]
    n = N_REPEATS * N_PER_ESTIMATE
    log_naive, log_is, z_prior, z_q, (_, post_cov) = weights(lg, x, n, rng)
    print(f"  log p(x) = {log_px:.4f} (closed form); posterior std "
          f"{np.sqrt(np.diag(post_cov)).round(3)} against the prior's 1")
    results = {}
    for name, log_w in (("naive, z ~ p(z)", log_naive), ("importance, z ~ q(z|x)", log_is)):
        # (N_REPEATS,) estimates of p(x), each divided by p(x)
        ratio = np.exp(log_w).reshape(N_REPEATS, N_PER_ESTIMATE).mean(axis=1)
        results[name] = ratio
        se = ratio.std(ddof=1) / math.sqrt(N_REPEATS)
        print(f"  {name:<24} mean of {N_REPEATS} estimates / p(x) = {ratio.mean():.4f} "
              f"+- {se:.4f};  one estimate's spread {ratio.std(ddof=1):.4f};  "
              f"effective sample {nv.effective_sample_size(log_w):.1%}")
        z_score = abs(ratio.mean() - 1) / se
        check(z_score < 4, f"{name}: unbiased, E[estimate] / p(x) = {ratio.mean():.4f}, "
                           f"{z_score:.1f} standard errors from 1")
    var_naive, var_is = (r.var(ddof=1) for r in results.values())
    check(var_naive > 10 * var_is,
          f"same expectation, very different variance: Var(naive) / Var(importance) = "
          f"{var_naive / var_is:.1f} ({var_naive:.4f} vs {var_is:.5f}, {N_PER_ESTIMATE} codes "
          "per estimate)")
    return {"lg": lg, "x": x, "log_naive": log_naive, "log_is": log_is, "z_prior": z_prior,
            "z_q": z_q}


# %% [markdown]
# ## The latent dimension
#
# The prior spreads its codes over all of $\mathbb{R}^K$ while the posterior concentrates
# on a small region; the fraction of prior codes that land there shrinks geometrically
# with $K$. A VAE's latent space has tens of dimensions, so naive Monte Carlo is hopeless
# there, while a proposal near the posterior stays useful.

# %%
def check_latent_dimension(rng: np.random.Generator, check) -> None:
    """The naive estimator's effective sample collapses as K grows; importance sampling's not."""
    _common.section("the naive estimator as the latent dimension grows (D = 16, 100000 codes "
                    "each)")
    print(f"  {'K':>3}  {'naive: p_hat/p(x)':>17}  {'naive: effective':>16}  "
          f"{'importance: p_hat/p(x)':>22}  {'importance: effective':>21}")
    ess_naive, ess_is = [], []
    for k in (1, 2, 4, 8):
        lg_k = nv.LinearGaussian.random(data_dim=16, latent_dim=k, rng=rng, noise_std=0.5)
        x_k, _ = lg_k.sample(1, rng)  # (1, 16)
        ln, li, *_ = weights(lg_k, x_k, 100_000, rng)  # (100000,) each
        ess_naive.append(nv.effective_sample_size(ln))
        ess_is.append(nv.effective_sample_size(li))
        print(f"  {k:3d}  {np.exp(ln).mean():17.3g}  {ess_naive[-1]:16.3%}  "
              f"{np.exp(li).mean():22.4f}  {ess_is[-1]:21.1%}")
    check(all(a > b for a, b in zip(ess_naive, ess_naive[1:], strict=False)),
          "the prior's codes explain x ever more rarely as K grows: naive effective sample "
          + " > ".join(f"{e:.3%}" for e in ess_naive))
    advantage = [i / nn for i, nn in zip(ess_is, ess_naive, strict=True)]
    check(all(a > 1 for a in advantage) and advantage[-1] > 10 * advantage[0],
          "a proposal near the posterior keeps more of its codes useful at every K, by a factor "
          "that grows from K = 1 to K = 8: " + ", ".join(f"{a:.0f}x" for a in advantage))


# %% [markdown]
# ## The same on a VAE: its encoder is the proposal
#
# A VAE trained on the 8x8 digits (2-D latent) has no closed-form $p(x)$, but both
# estimators still apply, with $\log \hat p(x) = \operatorname{logsumexp}_s \log w_s -
# \log S$. With $S = 20000$ codes each they should agree within their standard errors
# (by the delta method, $\mathrm{sd}(\log \bar w) \approx \mathrm{sd}(w) / (\bar w
# \sqrt{S})$), and the encoder's codes should be worth more than the prior's.

# %%
def check_on_vae(rng: np.random.Generator, check) -> None:
    """Naive and importance estimates of log p(x) agree on a VAE; the encoder's codes win."""
    _common.section("the same on a VAE (2-D latent, 8x8 digits): its encoder is the proposal")
    train, test = _common.load_data(False)
    vae = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(128,), latent=2))
    params = vae.init_params(rng)
    nv.fit(vae, params, train.x, test.x, optimizer=nv.Adam(3e-3), epochs=60, rng=rng,
           batch_size=64)
    params = params.astype(np.float64)
    images = test.x[:4].astype(np.float64)  # (4, 64)
    s = 20_000
    print(f"  {'image':>5}  {'naive log p(x)':>18}  {'importance log p(x)':>19}  "
          f"{'naive eff.':>10}  {'importance eff.':>15}")
    gaps, ess_pairs = [], []
    for i, xi in enumerate(images):
        xs = np.broadcast_to(xi, (s, 64))  # (S, 64)
        log_w_naive = vae.log_likelihood(params, xs, rng.standard_normal((s, 2)))  # (S,)
        log_w_is = nv.log_importance_weights(vae, params, xi[None], s, rng)[:, 0]  # (S,)
        est, se = [], []
        for lw in (log_w_naive, log_w_is):
            est.append(float(nv.logsumexp(lw, axis=0)) - math.log(s))
            w = np.exp(lw - lw.max())  # (S,) rescaled weights
            se.append(w.std() / w.mean() / math.sqrt(s))  # delta method: sd of log(mean w)
        gaps.append(abs(est[0] - est[1]) / math.hypot(*se))
        ess_pairs.append((nv.effective_sample_size(log_w_naive),
                          nv.effective_sample_size(log_w_is)))
        print(f"  {i:5d}  {est[0]:10.4f} +- {se[0]:.3f}  {est[1]:11.4f} +- {se[1]:.3f}  "
              f"{ess_pairs[-1][0]:10.2%}  {ess_pairs[-1][1]:15.1%}")
    check(max(gaps) < 4, f"with {s} codes each, the two estimates of log p(x) agree within "
                         f"their standard errors: largest difference {max(gaps):.1f} combined "
                         "standard errors")
    check(all(b > a for a, b in ess_pairs),
          "the encoder's codes are worth more than the prior's for every image: effective sample "
          + ", ".join(f"{b:.0%} vs {a:.1%}" for a, b in ess_pairs))


# %% [markdown]
# ## The figure
#
# Left, the true posterior $p(z \mid x)$ of the linear-Gaussian model (contours) with 300
# codes from the prior and 300 from the proposal. Right, the histograms of the weights
# divided by $p(x)$: both average to 1, but the naive ones are mostly near 0 with rare
# huge values.

# %%
def draw_figure(linear: dict, out) -> None:
    lg, x = linear["lg"], linear["x"]
    fig, (ax_z, ax_w) = plt.subplots(1, 2, figsize=(12, 4.6))
    grid = np.linspace(-3.5, 3.5, 200)  # (200,)
    g1, g2 = np.meshgrid(grid, grid)  # (200, 200) each
    zz = np.column_stack([g1.ravel(), g2.ravel()])  # (40000, 2)
    xs = np.broadcast_to(x, (zz.shape[0], 8))  # (40000, 8)
    log_post = lg.log_posterior(zz, xs).reshape(g1.shape)  # (200, 200)
    ax_z.contour(g1, g2, np.exp(log_post), levels=6, colors="k", linewidths=0.8)
    ax_z.scatter(*linear["z_prior"][:300].T, s=5, alpha=0.5, label="z ~ p(z) (naive)")
    ax_z.scatter(*linear["z_q"][:300].T, s=5, alpha=0.5, label="z ~ q(z|x) (importance)")
    ax_z.set_title("codes against the true posterior p(z|x) (contours)")
    ax_z.set_xlabel("z1")
    ax_z.set_ylabel("z2")
    ax_z.legend(loc="lower right")
    bins = np.linspace(0, 8, 60)
    ax_w.hist(np.exp(linear["log_naive"]), bins=bins, alpha=0.6, density=True,
              label="naive: p(x|z) / p(x)")
    ax_w.hist(np.exp(linear["log_is"]), bins=bins, alpha=0.6, density=True,
              label="importance: w / p(x)")
    ax_w.set_yscale("log")
    ax_w.set_xlabel("weight / p(x)   (both average to 1)")
    ax_w.set_title("the weights: same mean, very different spread")
    ax_w.legend()
    _common.save_figure(fig, out / "03_weights.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    linear = check_estimators(rng, check)
    check_latent_dimension(rng, check)
    check_on_vae(rng, check)
    draw_figure(linear, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
