# %%
"""Lesson 14: a learned mixture prior: p(z) moves to where the codes are.

The lecture's prior is N(0, I), fixed, and the KL term pulls every q(z|x) towards it. A
richer prior can instead be learned with the rest of the model, so that it fits the
codes the encoder produces (Tomczak and Welling 2018). Here it is a mixture of C = 10
Gaussians with learned weights, means and variances,

    p(z) = sum_c pi_c N(z; m_c, diag exp(s_c)),     pi = softmax(w).

The KL of a Gaussian to a mixture has no closed form; the VAE uses the one-sample
estimate log q(z|x) - log p(z) at its reparameterized z, unbiased. Setting the gradients
of the prior's parameters to zero shows where the components settle: each weight pi_c
equals the share of the codes z ~ q(z|x) that component c is responsible for, and each
mean m_c the responsibility-weighted mean of those codes (the fixed point of EM fitting
the mixture to the codes).

With a 2-D code, so that the picture shows codes and components together, a VAE with
the mixture prior and one with N(0, I) are trained alike on the 8x8 digits. The lesson
checks that the learned components sit at that fixed point, draws samples from each
component, and compares the two models' test ELBO (and L_1000) per image: on the digits
the mixture prior is better by a few tenths of a nat, about 1% of the ELBO.

Shows: where the mixture prior's components settle against the codes, samples per
       component, and the test ELBO against the standard prior's.
Run:  python lessons/14_mixture_prior.py     (about 17 s)
Writes lessons/output/14_components.png (test codes with the components' means and
1-sigma ellipses, beside the standard prior's codes) and 14_samples.png (a row of
samples per component).
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots

# %% [markdown]
# # Lesson 14: a learned mixture prior
#
# In the lecture $p(z) = \mathcal{N}(0, I)$ is fixed, and the ELBO's KL term pulls every
# $q(z|x)$ towards it. Nothing forces that choice: $p(z)$ may have parameters of its own,
# learned with the encoder and the decoder by the same gradient. A mixture of $C$
# Gaussians with diagonal covariances,
#
# $$p(z) = \sum_{c=1}^{C} \pi_c\, \mathcal{N}\big(z;\, m_c,\, \mathrm{diag}\, e^{s_c}\big),
# \qquad \pi = \mathrm{softmax}(w),$$
#
# can take the shape of the codes the encoder actually produces. In numvae it is
# `ModelConfig(prior='mixture', components=C)`: means $m$ (C, K), log-variances $s$
# (C, K) and logits $w$ (C,) join the parameters, initialised to means drawn from
# $\mathcal{N}(0, I)$, unit variances and equal weights.
#
# **The KL term.** $\mathrm{KL}(q(z|x) \,\|\, p(z))$ to a mixture has no closed form. The
# VAE estimates it from the $z = \mu + \sigma \odot \epsilon$ it has already drawn:
#
# $$\mathrm{KL}\big(q(z|x) \,\|\, p(z)\big) \approx \log q(z|x) - \log p(z), \qquad
# \log p(z) = \log \sum_c \exp a_c, \quad a_c = \log \pi_c + \log \mathcal{N}(z; m_c,
# \mathrm{diag}\, e^{s_c}),$$
#
# unbiased, since $\mathbb{E}_{q}[\log q(z|x) - \log p(z)]$ is the KL itself.
#
# **Where the components settle.** With the responsibilities $r_c(z) =
# \mathrm{softmax}(a)_c$, the probability that $z$ came from component $c$, the
# gradients of $\log p(z)$ are $\partial / \partial w_c = r_c - \pi_c$ and
# $\partial / \partial m_c = r_c\, (z - m_c) / e^{s_c}$. Training follows their average
# over the codes $z \sim q(z|x_n)$ of the training images; where it is zero,
#
# $$\pi_c = \frac{1}{N} \sum_n \mathbb{E}_{q(z_n|x_n)}\big[r_c(z_n)\big], \qquad
# m_c = \frac{\sum_n \mathbb{E}_{q(z_n|x_n)}\big[r_c(z_n)\, z_n\big]}{\sum_n
# \mathbb{E}_{q(z_n|x_n)}\big[r_c(z_n)\big]}:$$
#
# each weight is the share of the codes its component is responsible for, each mean the
# centre of those codes. These are the fixed-point equations of EM fitting the mixture
# to the codes: the learned prior is the mixture that maximum likelihood would fit to
# the aggregate posterior $q(z) = \frac{1}{N} \sum_n q(z|x_n)$.

# %%
LATENT, HIDDEN, EPOCHS, COMPONENTS = 2, (128,), 200, 10
DRAWS = 20  # codes z ~ q(z|x) per training image for the fixed-point check
K_EVAL = 1000  # draws per test image for the ELBO and L_1000


def train(data, prior: str, seed: int) -> dict:
    """A 2-D VAE with the standard or the mixture prior; same seed, network and epochs."""
    train_set, test_set = data
    config = nv.ModelConfig(input_dim=train_set.x.shape[1], hidden=HIDDEN, latent=LATENT,
                            prior=prior, components=COMPONENTS if prior == "mixture" else 0)
    model = nv.VAE(config)
    rng = np.random.default_rng(seed)
    params = model.init_params(rng)
    with _common.stopwatch() as t:
        nv.fit(model, params, train_set.x, test_set.x, optimizer=nv.Adam(3e-3), epochs=EPOCHS,
               rng=rng, batch_size=64)
    mu, _ = model.encode(params, test_set.x)  # (N_test, 2): the test codes, for the figure
    return {"model": model, "params": params, "seconds": t[0], "mu": mu}


# %% [markdown]
# ## Two VAEs, trained alike
#
# The 8x8 digits, a 2-D code, one hidden layer of 128 units, Adam, 200 epochs, the same
# seed: one VAE with $p(z) = \mathcal{N}(0, I)$, one with a mixture of 10 components.

# %%
def train_both(data, seed: int) -> dict:
    _common.section(f"two VAEs on the digits: {LATENT}-D code, hidden {HIDDEN}, {EPOCHS} "
                    f"epochs; N(0, I) and a mixture of {COMPONENTS} Gaussians")
    models = {"standard": train(data, "standard", seed), "mixture": train(data, "mixture", seed)}
    for name, m in models.items():
        print(f"  {name:<8} prior: trained in {m['seconds']:.1f} s")
    return models


# %% [markdown]
# ## Where the components settle
#
# Draw 20 codes $z \sim q(z|x)$ for every training image, compute each code's
# responsibilities, and compare every component's weight $\pi_c$ with the share of the
# codes it is responsible for, and its mean $m_c$ with their responsibility-weighted
# mean. Training stops at a finite number of noisy Adam steps, so the fixed point is
# reached only approximately: the means are compared in units of each component's own
# standard deviation.

# %%
def check_components(models: dict, train_set, rng: np.random.Generator, check) -> dict:
    """pi_c = the share of codes component c is responsible for; m_c = their centre."""
    model, params = models["mixture"]["model"], models["mixture"]["params"]
    prior = model.prior
    mu, logvar = model.encode(params, np.tile(train_set.x, (DRAWS, 1)))  # (DRAWS * N, 2) each
    z = nv.reparameterize(mu, logvar, rng.standard_normal(mu.shape, dtype=mu.dtype))
    a = prior.component_log_probs(params, z)  # (DRAWS * N, C): log pi_c + log N(z; m_c, v_c)
    r = np.apply_along_axis(nv.softmax, 1, a)  # (DRAWS * N, C) responsibilities r_c(z)
    share = r.mean(axis=0)  # (C,)
    centre = (r.T @ z) / r.sum(axis=0)[:, None]  # (C, 2): responsibility-weighted means
    pi = prior.weights(params)  # (C,)
    means, sd = params["prior.means"], np.exp(params["prior.logvars"] / 2)  # (C, 2) each
    apart = np.linalg.norm(means - centre, axis=1) / sd.mean(axis=1)  # (C,) in sd units
    print(f"  {'c':>2} {'pi_c':>6} {'share':>6}   {'m_c':>15} {'centre of codes':>17} "
          f"{'sd_c':>12}")
    for c in np.argsort(-pi):
        m_c, centre_c, sd_c = (np.array2string(v[c], precision=2) for v in (means, centre, sd))
        print(f"  {c:2d} {pi[c]:6.3f} {share[c]:6.3f}   {m_c:>15} {centre_c:>17} {sd_c:>12}")
    total_variation = 0.5 * np.abs(pi - share).sum()
    check(total_variation < 0.05,
          f"each weight is the share of the codes its component is responsible for: total "
          f"variation distance {total_variation:.3f} between pi and the shares (claimed: "
          "below 0.05)")
    check(apart.max() < 0.5,
          f"each mean sits at the centre of its codes: at most {apart.max():.2f} of the "
          f"component's standard deviation away (mean {apart.mean():.2f}; claimed: below 0.5)")
    return {"pi": pi, "means": means, "sd": sd}


# %% [markdown]
# ## The test ELBO against the standard prior's
#
# For each test image, 1000 draws $z_i \sim q(z|x)$ give the ELBO (the average of
# $\log w_i = \log p(x|z_i) + \log p(z_i) - \log q(z_i|x)$, which is the one-sample
# estimate averaged 1000 times) and $\mathcal{L}_{1000}$ (lesson 11), for both models.
# Differences are taken per image. The mixture prior can only help the ELBO where the
# codes are not shaped like $\mathcal{N}(0, I)$; with a 2-D code on 1500 small digits
# the gain is expected to be modest.

# %%
def compare_elbo(models: dict, test_set, seed: int, check) -> None:
    """The mixture prior's test ELBO and L_1000 against the standard prior's, per image."""
    estimates = {name: nv.importance_estimates(m["model"], m["params"], test_set.x, K_EVAL,
                                               np.random.default_rng(seed))
                 for name, m in models.items()}  # name -> (ELBO (N,), L_1000 (N,))
    print(f"\n  {'prior':<9} {'test ELBO':>10} {'L_1000':>9}   (nats per image, "
          f"{len(test_set)} test images)")
    for name, (elbo, l_k) in estimates.items():
        print(f"  {name:<9} {elbo.mean():10.3f} {l_k.mean():9.3f}")
    diffs = {}
    for i, bound in enumerate(("ELBO", "L_1000")):
        diff = estimates["mixture"][i] - estimates["standard"][i]  # (N,)
        diffs[bound] = (diff.mean(), diff.std(ddof=1) / math.sqrt(diff.size))
    (d, se), (d_l, se_l) = diffs["ELBO"], diffs["L_1000"]
    elbo = estimates["standard"][0].mean()
    check(d > -2 * se,
          f"the mixture prior's test ELBO is not worse than the standard prior's: {d:+.3f} +- "
          f"{se:.3f} nats per image, {d / se:+.1f} standard errors (claimed: above -2); "
          f"L_1000 {d_l:+.3f} +- {se_l:.3f}")
    check(d < 0.5,
          f"and better only a little: {d:+.3f} nats is {abs(d / elbo):.1%} of the ELBO "
          "(claimed: below 0.5 nats)")
    print("note: seeds 0 to 3 give gains of +0.09 to +0.31 nats in the ELBO, not all of them "
          "outside\n      the noise: with a 2-D code on the digits the learned prior buys "
          "little")


# %% [markdown]
# ## The figures
#
# The test codes of the mixture-prior VAE, coloured by class, with each component's mean
# and its 1-sigma ellipse (axes $e^{s_c/2}$; thicker for heavier components), beside the
# standard-prior VAE's codes with the 1-sigma circle of $\mathcal{N}(0, I)$. Then a row of
# samples per component, $z \sim \mathcal{N}(m_c, \mathrm{diag}\, e^{s_c})$ decoded,
# heaviest component first.

# %%
def draw_figures(models: dict, prior: dict, test_set, out, seed: int) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    theta = np.linspace(0, 2 * np.pi, 100)  # (100,)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (100, 2)
    for ax, name in zip(axes, ("mixture", "standard"), strict=True):
        mu = models[name]["mu"]  # (N_test, 2)
        sc = ax.scatter(mu[:, 0], mu[:, 1], c=test_set.y, cmap="tab10", s=6, vmin=-0.5,
                        vmax=9.5)
        ax.set_xlabel("z1")
        ax.set_aspect("equal")
    for c in np.argsort(-prior["pi"]):
        ellipse = prior["means"][c] + circle * prior["sd"][c]  # (100, 2)
        axes[0].plot(ellipse[:, 0], ellipse[:, 1], "k-", lw=0.5 + 20 * prior["pi"][c])
        axes[0].annotate(f"{c}", prior["means"][c], ha="center", va="center", fontsize=9,
                         fontweight="bold")
    axes[1].plot(circle[:, 0], circle[:, 1], "k-", lw=1.5)
    axes[0].set_title(f"mixture prior: test codes, {COMPONENTS} components (1 sigma)")
    axes[1].set_title("standard prior: test codes, N(0, I) (1 sigma)")
    axes[0].set_ylabel("z2")
    fig.colorbar(sc, ax=axes, ticks=range(10), label="class")
    _common.save_figure(fig, out / "14_components.png")

    model, params = models["mixture"]["model"], models["mixture"]["params"]
    rng = np.random.default_rng(seed)
    rows, order = [], np.argsort(-prior["pi"])  # heaviest component first
    for c in order:
        m_c = np.repeat(params["prior.means"][c:c + 1], 12, axis=0)  # (12, 2)
        s_c = np.repeat(params["prior.logvars"][c:c + 1], 12, axis=0)  # (12, 2)
        z = nv.reparameterize(m_c, s_c, rng.standard_normal(m_c.shape, dtype=m_c.dtype))
        rows.append(model.decode(params, z))  # (12, 64)
    path = out / "14_samples.png"
    plots.image_grid(np.concatenate(rows), test_set.image_shape, path, ncols=12,
                     title="a row of samples per component: " + ", ".join(map(str, order)))
    _common.announce(path)


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    data = _common.load_data(False)
    models = train_both(data, args.seed)
    prior = check_components(models, data[0], rng, check)
    compare_elbo(models, data[1], args.seed, check)
    draw_figures(models, prior, data[1], args.out, args.seed)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
