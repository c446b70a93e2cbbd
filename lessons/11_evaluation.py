# %%
"""Lesson 11: how good is the model? The ELBO's gap, and posterior collapse.

Two questions a trained VAE leaves open.

How loose is the ELBO? Training maximises the ELBO, a lower bound on log p(x) (lesson 04).
The importance-weighted estimate (Burda et al.)

    L_k = E[ log 1/k sum_i p(x|z_i) p(z_i) / q(z_i|x) ],   z_i ~ q(z|x),

is the ELBO at k = 1 and rises to log p(x) as k grows (lesson 03's importance sampling,
inside a log). L_k - ELBO is a lower bound on the gap KL(q(z|x) || p(z|x)), in nats.

Which latent dimensions are used? The KL term charges every dimension that carries
information. A dimension whose q(z_j|x) equals the prior for every x costs nothing and
tells the decoder nothing: it has collapsed. The diagnostics are the KL per dimension and
the number of active units (dimensions whose posterior mean moves with x). The lesson shows
what changes them: the KL weight beta, KL warm-up (beta ramped from 0 to 1), and how
sharp the likelihood is (a Gaussian with sigma = 1 on pixels in [0, 1] is so flat that
encoding anything is not worth its KL).

Shows: the ELBO against the importance-weighted L_k as k grows; posterior collapse under
       beta, warm-up and the likelihood.
Run:  python lessons/11_evaluation.py       (about 16 s)
Writes lessons/output/11_iwae.png (L_k against k, with the ELBO) and 11_collapse.png (KL per
latent dimension for each setting, and the test KL per epoch with and without warm-up).
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 11: how good is the model?
#
# The lecture ends with a trained VAE; two questions it leaves open are answered here.
#
# **How loose is the ELBO?** Training maximises $\mathrm{ELBO} = \log p(x) -
# \mathrm{KL}(q(z|x) \,\|\, p(z|x))$ (lesson 04), and $\log p(x)$ itself is never seen.
# The importance-weighted estimate of Burda, Grosse and Salakhutdinov,
#
# $$\mathcal{L}_k = \mathbb{E}_{z_1, \dots, z_k \sim q(z|x)}\left[\log \frac{1}{k}
#   \sum_{i=1}^k \frac{p(x|z_i)\, p(z_i)}{q(z_i|x)}\right],$$
#
# is lesson 03's importance sampling inside a log. It equals the ELBO at $k = 1$, rises
# with $k$, and tends to $\log p(x)$, so $\mathcal{L}_k - \mathrm{ELBO}$ is a lower bound
# on the gap $\mathrm{KL}(q(z|x) \,\|\, p(z|x))$, in nats.
#
# **Which latent dimensions are used?** The KL term charges every dimension that carries
# information about $x$. A dimension $j$ whose $q(z_j|x)$ equals the prior for every $x$
# costs nothing and tells the decoder nothing: it has **collapsed**. The diagnostics are
# the KL per dimension, $\frac{1}{N} \sum_n \mathrm{KL}(q(z_j|x_n) \,\|\, p(z_j))$, and
# the number of **active units**, dimensions whose posterior mean moves with $x$
# ($\mathrm{Var}_x\, \mu_j(x) > 0.01$).

# %%
LATENT, EPOCHS = 16, 60
KS = (1, 10, 100, 1000)
SAMPLES_PER_IMAGE = 1000  # for every k: 1000 / k independent estimates L_k of each image


def train_vae(data, seed: int, likelihood: str = "bernoulli", sigma: float = 1.0,
              beta: float = 1.0, kl_warmup: int = 0) -> dict:
    """A 16-D latent VAE on the digits with the given likelihood and KL schedule."""
    train_set, test_set = data
    config = nv.ModelConfig(input_dim=train_set.x.shape[1], hidden=(128,), latent=LATENT,
                            likelihood=likelihood, output_logvar=2 * math.log(sigma))
    model = nv.VAE(config)
    rng = np.random.default_rng(seed)
    params = model.init_params(rng)
    history = nv.fit(model, params, train_set.x, test_set.x, optimizer=nv.Adam(3e-3),
                     epochs=EPOCHS, rng=rng, batch_size=64, beta=beta, kl_warmup=kl_warmup)
    mu, logvar = model.encode(params, test_set.x)  # (N_test, LATENT) each
    active, _ = nv.active_units(mu)
    return {"model": model, "params": params, "history": history, "active": active,
            "kl_dims": nv.kl_per_dimension(mu, logvar).mean(axis=0),  # (LATENT,)
            "mu": mu, "logvar": logvar}


# %% [markdown]
# ## The ELBO against $\mathcal{L}_k$
#
# A 16-D latent VAE with Bernoulli pixels, 100 test images. For each $k$, every image
# gets $1000/k$ independent estimates $\mathcal{L}_k$, averaged. Differences are taken
# per image, so that the images' own differences cancel from the standard errors. The
# ELBO is also computed the way training computes it (one $z$ per image, 200 passes):
# $\mathcal{L}_1$ must agree with it.

# %%
def check_iwae(base: dict, test_x: np.ndarray, rng: np.random.Generator, check) -> dict:
    """L_1 is the ELBO; L_k rises with k; the gap to L_1000 bounds KL(q || p(z|x)) below."""
    model, params = base["model"], base["params"]
    x = test_x[:100]  # (100, 64)
    per_image = {}
    for k in KS:
        repeats = SAMPLES_PER_IMAGE // k
        estimates = nv.iwae_log_px(model, params, np.tile(x, (repeats, 1)), k, rng)
        estimates = estimates.reshape(repeats, -1)  # (repeats, 100)
        per_image[k] = estimates.mean(axis=0)  # (100,): each image's L_k, averaged over repeats
        if k == 1:  # Monte Carlo error of the mean of all single-sample estimates (images fixed)
            l1_se = (estimates - per_image[1]).std(ddof=1) / math.sqrt(estimates.size)
    elbo_runs = [-nv.evaluate(model, params, x, rng)["loss"] for _ in range(200)]
    elbo, elbo_se = np.mean(elbo_runs), np.std(elbo_runs, ddof=1) / math.sqrt(len(elbo_runs))
    print(f"  ELBO by the training loss (200 passes of one z per image): {elbo:.4f} "
          f"+- {elbo_se:.4f}")
    print(f"  {'k':>5}  {'L_k (nats per image)':>20}  {'L_k - ELBO':>10}  {'+- (std. error)':>15}")
    gains = {}
    for k in KS:
        diff = per_image[k] - per_image[1]  # (100,) per image, so the images' differences cancel
        gains[k] = (diff.mean(), diff.std(ddof=1) / math.sqrt(diff.size) if k > 1 else 0.0)
        print(f"  {k:5d}  {per_image[k].mean():20.4f}  {gains[k][0]:10.4f}  {gains[k][1]:15.4f}")
    l1 = per_image[1].mean()
    apart = abs(l1 - elbo) / math.hypot(elbo_se, l1_se)
    check(apart < 4, f"L_1 is the ELBO: {l1:.4f} +- {l1_se:.4f} vs {elbo:.4f} from the training "
                     f"loss ({apart:.1f} standard errors apart)")
    means = [per_image[k].mean() for k in KS]
    rises = all(a < b for a, b in zip(means, means[1:], strict=False))
    check(rises and gains[10][0] > 3 * gains[10][1],
          "L_k rises with k: " + " < ".join(f"{m:.3f}" for m in means))
    gap, gap_se = gains[KS[-1]]
    check(gap > 3 * gap_se,
          f"the ELBO is {gap:.3f} +- {gap_se:.3f} nats per image below L_{KS[-1]}, so the "
          "average KL(q(z|x) || p(z|x)) is at least that: q is near p(z|x), not on it")
    return {"means": means, "elbo": elbo}


# %% [markdown]
# ## Posterior collapse
#
# The same VAE trained under six settings: the Bernoulli likelihood with KL weight
# $\beta = 1$ and $\beta = 4$ (the loss is $\text{reconstruction} + \beta\, \mathrm{KL}$);
# a Gaussian likelihood with $\sigma = 1$, alone, with KL warm-up ($\beta$ ramped from 0
# to 1 over the first 30 epochs), and with $\beta = 0.1$; and a Gaussian with
# $\sigma = 0.1$.

# %%
def train_settings(data, base: dict, seed: int) -> dict:
    """The six settings (base is the Bernoulli, beta = 1 model already trained)."""
    _common.section("posterior collapse: KL per latent dimension and active units")
    runs = {"Bernoulli, beta = 1": base,
            "Bernoulli, beta = 4": train_vae(data, seed, beta=4.0),
            "Gaussian sigma = 1": train_vae(data, seed, "gaussian"),
            "Gaussian sigma = 1, warm-up": train_vae(data, seed, "gaussian",
                                                     kl_warmup=EPOCHS // 2),
            "Gaussian sigma = 1, beta = 0.1": train_vae(data, seed, "gaussian", beta=0.1),
            "Gaussian sigma = 0.1": train_vae(data, seed, "gaussian", sigma=0.1)}
    print(f"  {'setting':<31} {'test KL':>8} {'active units':>12}   KL of the 5 busiest dimensions")
    for name, r in runs.items():
        top = np.sort(r["kl_dims"])[::-1][:5]  # (5,)
        print(f"  {name:<31} {r['kl_dims'].sum():8.3f} {r['active']:>9d}/{LATENT}   "
              f"{np.round(top, 3)}")
    return runs


# %% [markdown]
# With $\beta = 1$ the KL per dimension must add up to the KL term, and the model should
# pay only for information it uses: the idle dimensions carry (almost) no KL. A larger
# $\beta$ charges information more and should leave fewer dimensions active.

# %%
def check_kl_per_dimension(runs: dict, check) -> None:
    """KL per dimension adds up; idle dimensions cost nothing; beta = 4 uses fewer."""
    b1 = runs["Bernoulli, beta = 1"]
    total_kl = nv.kl_standard_normal(b1["mu"], b1["logvar"]).mean()
    check(abs(b1["kl_dims"].sum() - total_kl) < 1e-4 * max(1.0, total_kl),
          f"the KL per dimension adds up to the KL term: {b1['kl_dims'].sum():.5f} = "
          f"{total_kl:.5f}")
    _, variances = nv.active_units(b1["mu"])  # (LATENT,) variance of each posterior mean
    idle_kl = b1["kl_dims"][variances <= 0.01].sum()
    check(0 < b1["active"] < LATENT and idle_kl < 0.05,
          f"with beta = 1 the model uses {b1['active']} of {LATENT} dimensions; the other "
          f"{LATENT - b1['active']} together carry {idle_kl:.4f} nats: it pays only for "
          "information it uses")
    b4 = runs["Bernoulli, beta = 4"]
    check(b4["active"] < b1["active"],
          f"beta = 4 charges information four times over: active units {b1['active']} -> "
          f"{b4['active']}, KL {b1['kl_dims'].sum():.3f} -> {b4['kl_dims'].sum():.3f} nats")


# %% [markdown]
# The likelihood's sharpness matters as much. With a Gaussian $\sigma = 1$ on pixels in
# $[0, 1]$, a pixel's squared error $(x - \mu)^2 / 2$ is worth at most half a nat: too
# little to pay for a code, so the posterior collapses completely. KL warm-up delays the
# collapse (while $\beta$ is small, information is cheap) but does not prevent it here.
# What does: a smaller KL weight, or a sharper likelihood ($\sigma = 0.1$) that makes
# information worth its cost.

# %%
def check_collapse(runs: dict, check) -> None:
    """sigma = 1 collapses; warm-up only delays it; beta = 0.1 or sigma = 0.1 prevent it."""
    g1 = runs["Gaussian sigma = 1"]
    check(g1["active"] == 0 and g1["kl_dims"].sum() < 0.05,
          f"a Gaussian likelihood with sigma = 1 collapses the posterior completely: KL "
          f"{g1['kl_dims'].sum():.4f} nats, {g1['active']} active units (a pixel's squared error "
          "is worth at most 1/2 nat, not enough to pay for a code)")
    warm = runs["Gaussian sigma = 1, warm-up"]
    kl_path = [r["test_kl"] for r in warm["history"]]  # (EPOCHS,)
    peak_epoch = int(np.argmax(kl_path)) + 1
    gone = next((e for e in range(peak_epoch, EPOCHS) if kl_path[e] < 0.05), EPOCHS - 1)  # 0-based
    check(max(kl_path) > 0.5 and warm["active"] == 0,
          f"KL warm-up delays the collapse but does not prevent it here: test KL peaks at "
          f"{max(kl_path):.3f} nats in epoch {peak_epoch} (beta = "
          f"{warm['history'][peak_epoch - 1]['beta']:.2f}), is below 0.05 by epoch {gone + 1} "
          f"(beta = {warm['history'][gone]['beta']:.2f}) and ends with {warm['active']} active "
          "units")
    low = runs["Gaussian sigma = 1, beta = 0.1"]
    sharp = runs["Gaussian sigma = 0.1"]
    check(low["active"] > 0 and sharp["active"] > 0,
          f"what does prevent it: a smaller KL weight (beta = 0.1: {low['active']} active units) "
          f"or a sharper likelihood that makes information worth its cost (sigma = 0.1: "
          f"{sharp['active']} active)")


# %% [markdown]
# ## The figures
#
# $\mathcal{L}_k$ against $k$ with the ELBO; the KL per latent dimension for each
# setting (busiest first); and the test KL per epoch for the three $\sigma = 1$ settings.

# %%
def draw_figures(iwae: dict, runs: dict, out) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.semilogx(KS, iwae["means"], "o-", label="L_k (importance-weighted)")
    ax.axhline(iwae["elbo"], color="k", linestyle="--", label="ELBO (training loss)")
    ax.set_xlabel("k, samples per estimate")
    ax.set_ylabel("nats per image")
    ax.set_title("the ELBO's gap: L_k rises towards log p(x)")
    ax.legend()
    _common.save_figure(fig, out / "11_iwae.png")

    fig, (ax_dims, ax_warm) = plt.subplots(1, 2, figsize=(13, 4.4))
    width = 0.8 / len(runs)
    for i, (name, r) in enumerate(runs.items()):
        ax_dims.bar(np.arange(LATENT) + i * width, np.sort(r["kl_dims"])[::-1], width, label=name)
    ax_dims.set_yscale("symlog", linthresh=0.01)
    ax_dims.set_xlabel("latent dimension, busiest first")
    ax_dims.set_ylabel("KL per dimension (nats, test mean)")
    ax_dims.set_title("which dimensions carry information")
    ax_dims.legend(fontsize=7)
    for name in ("Gaussian sigma = 1", "Gaussian sigma = 1, warm-up",
                 "Gaussian sigma = 1, beta = 0.1"):
        history = runs[name]["history"]
        ax_warm.plot([r["epoch"] for r in history], [r["test_kl"] for r in history], label=name)
    ax_warm.axvline(EPOCHS // 2, color="grey", linestyle=":", label="warm-up ends (beta = 1)")
    ax_warm.set_xlabel("epoch")
    ax_warm.set_ylabel("test KL (nats per image)")
    ax_warm.set_title("collapse with sigma = 1: warm-up only delays it")
    ax_warm.legend(fontsize=8)
    _common.save_figure(fig, out / "11_collapse.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    data = _common.load_data(False)
    _common.section(f"the ELBO against L_k: a {LATENT}-D latent VAE (Bernoulli), 100 test images")
    base = train_vae(data, args.seed)
    iwae = check_iwae(base, data[1].x, rng, check)
    runs = train_settings(data, base, args.seed)
    check_kl_per_dimension(runs, check)
    check_collapse(runs, check)
    draw_figures(iwae, runs, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
