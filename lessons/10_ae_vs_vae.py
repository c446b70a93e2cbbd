# %%
"""Lesson 10: autoencoder versus VAE, the seed's closing comparison.

The same network trained twice: once as a plain autoencoder (reconstruction only, one code
per image) and once as a VAE (a distribution per image, plus the KL term that pulls every
q(z|x) towards N(0, I)). Then codes drawn at random from N(0, I) are decoded by each. The
seed's claim: the autoencoder decodes random codes badly, the VAE well, because only the
VAE was trained so that codes from N(0, I) are codes it knows.

The lesson measures the difference three ways, for a 2-D and an 8-D latent:

  * where the codes live: KL( N(mean, cov of the codes) || N(0, I) ), the aggregate
    posterior's fit to the prior that sampling draws from;
  * the mix of digits generated: a classifier trained on the real images labels the
    decoded samples, and KL(p_data(class) || p_generated(class)) compares the mix with the
    data's (lesson 01's measure, now on images);
  * how far generated images land from the data: the distance from each decoded sample to
    its nearest training image, against the same for real test images.

Shows: the same network with and without the KL term; random z decoded by each, the
       difference measured.
Run:  python lessons/10_ae_vs_vae.py       (about 13 s)
Writes lessons/output/10_codes.png (2-D codes of both models against N(0, I)),
10_samples_k2.png and 10_samples_k8.png (random z decoded: autoencoder top, VAE bottom).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

import numvae as nv
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots

# %% [markdown]
# # Lesson 10: autoencoder versus VAE
#
# The lecture closes with the VAE seen from the implementation side: an autoencoder that
# can also generate. An autoencoder learns to reconstruct its input through a code $z$,
# one vector per image. Its decoder has only ever seen those exact codes, so it decodes a
# random $z$ well only by luck. A good generative model must turn *any* random $z$ into a
# plausible image, because sampling from $p_{model}(x)$ means decoding $z \sim p(z)$.
#
# The VAE's encoder outputs a distribution $q(z|x)$ instead, the decoder is trained on
# codes drawn from it, and the regulariser $\mathrm{KL}(q(z|x) \,\|\, p(z))$ pulls every
# $q(z|x)$ towards $p(z) = \mathcal{N}(0, I)$. The lecture names two effects of that
# term:
#
# 1. $q(z|x)$ stays close to $p(z|x)$, so a $z$ sampled from $q(z|x)$ reconstructs $x$;
# 2. when $q(z|x)$ is close to $p(z)$, a $z$ sampled from $p(z)$ at generation time
#    falls where the codes $q(z|x)$ of the training images lie, which is like sampling
#    from the encoder.
#
# (And a caveat: a $z$ from $p(z)$ is not guaranteed to land near any $q(z|x)$'s mean,
# so the VAE's samples are plausible rather than sharp.) Here the same network, with the
# same initial weights and batches, is trained with and without the KL term, in a 2-D
# and an 8-D latent space, and random codes are decoded by each. Three measures:
#
# * **where the codes live**: $\mathrm{KL}(\mathcal{N}(\bar\mu, \bar\Sigma) \,\|\,
#   \mathcal{N}(0, I))$, the fit of the codes' Gaussian summary to the prior;
# * **the mix of digits generated**: a classifier trained on real digits labels the
#   samples, and $\mathrm{KL}(p_{data}(\text{class}) \,\|\, p_{generated}(\text{class}))$
#   compares the mix with the data's (lesson 01's measure, now on images);
# * **how far samples land from the data**: the distance from each sample to its nearest
#   training image, against the same for real test images.

# %%
N_SAMPLES = 2000  # random codes decoded by each model


def train_model(model_class, latent: int, data, seed: int):
    """The same architecture, initial weights and batches for both model classes."""
    train_set, test_set = data
    model = model_class(nv.ModelConfig(input_dim=train_set.x.shape[1], hidden=(128,),
                                       latent=latent))
    rng = np.random.default_rng(seed)
    params = model.init_params(rng)
    nv.fit(model, params, train_set.x, test_set.x, optimizer=nv.Adam(3e-3), epochs=100, rng=rng,
           batch_size=64)
    return model, params


# %% [markdown]
# ## The yardsticks
#
# A logistic-regression classifier of real digits, the data's class frequencies
# $p_{data}(\text{class})$, and how far real test images lie from their nearest training
# image.

# %%
def make_yardsticks(train_set, test_set) -> dict:
    """A classifier of real digits, the data's class mix, the real images' nearest distance."""
    classifier = LogisticRegression(max_iter=2000).fit(train_set.x, train_set.y)
    p_data = nv.categorical_mle(train_set.y, 10)  # (10,)
    test_nn = nv.nearest_neighbor_distance(test_set.x, train_set.x).mean()
    print(f"  a classifier of real digits: test accuracy "
          f"{classifier.score(test_set.x, test_set.y):.1%}")
    print(f"  real test images lie {test_nn:.3f} from their nearest training image on average")
    return {"classifier": classifier, "p_data": p_data, "test_nn": test_nn}


# %% [markdown]
# ## With and without the KL term
#
# For each latent size, train both models and decode 2000 codes $z \sim \mathcal{N}(0, I)$
# with each. Only the VAE's codes should fill $\mathcal{N}(0, I)$, and only the VAE should
# generate the digits in the data's proportions.

# %%
def measure(model, params, data, yardsticks: dict, seed: int) -> dict:
    """The three measures for one trained model, plus its codes and samples."""
    train_set, _ = data
    encoded = model.encode(params, train_set.x)
    # the VAE returns (mu, logvar) (N, K) each, the autoencoder its codes (N, K)
    mu, logvar = encoded if isinstance(encoded, tuple) else (encoded, None)
    samples = model.sample(params, N_SAMPLES, np.random.default_rng(seed + 1))  # (N_SAMPLES, D)
    mix = nv.categorical_mle(yardsticks["classifier"].predict(samples), 10)  # (10,)
    return {"agg_kl": nv.aggregate_posterior_kl(mu, logvar),
            "mix_kl": nv.kl_categorical(yardsticks["p_data"], mix),
            "nn": float(nv.nearest_neighbor_distance(samples, train_set.x).mean()),
            "samples": samples, "codes": mu, "mix": mix}


def compare_models(latent: int, data, yardsticks: dict, seed: int, check) -> dict:
    """Train the autoencoder and the VAE with a `latent`-D code; check the codes and the mix."""
    _common.section(f"latent dimension {latent}: the same network with and without the KL term")
    print(f"  {'model':<12} {'codes vs N(0,I)':>15} {'class mix KL':>13} "
          f"{'nearest-image distance':>23}")
    results = {}
    for name, cls in (("autoencoder", nv.Autoencoder), ("VAE", nv.VAE)):
        model, params = train_model(cls, latent, data, seed)
        r = results[name] = measure(model, params, data, yardsticks, seed)
        missing = np.flatnonzero(r["mix"] == 0)
        note = f"   (digits never generated: {missing.tolist()})" if missing.size else ""
        print(f"  {name:<12} {r['agg_kl']:15.3f} {r['mix_kl']:13.3f} {r['nn']:23.3f}{note}")
    ae, vae = results["autoencoder"], results["VAE"]
    check(ae["agg_kl"] > 10 * vae["agg_kl"] and ae["agg_kl"] > 1,
          f"[K={latent}] only the VAE's codes fill N(0, I): KL of the codes' Gaussian fit to "
          f"N(0, I) {ae['agg_kl']:.2f} nats (autoencoder) vs {vae['agg_kl']:.3f} (VAE)")
    check(ae["mix_kl"] > vae["mix_kl"],
          f"[K={latent}] random codes give the VAE the data's mix of digits, not the "
          f"autoencoder: KL(p_data(class) || p_generated(class)) = {ae['mix_kl']:.3f} vs "
          f"{vae['mix_kl']:.3f} nats")
    return results


# %% [markdown]
# ## How far the samples land from the data
#
# With an 8-D latent, most random codes fall where the autoencoder never put a code, and
# decode to smudges far from every training image.

# %%
def check_distances(results: dict, test_nn: float, check) -> None:
    """[K=8] the autoencoder's samples land far from the data, the VAE's do not."""
    ae8, vae8 = results[8]["autoencoder"]["nn"], results[8]["VAE"]["nn"]
    ae2, vae2 = results[2]["autoencoder"]["nn"], results[2]["VAE"]["nn"]
    check(ae8 > vae8 * 1.3,
          f"[K=8] the autoencoder's samples land far from the data: {ae8:.3f} from the nearest "
          f"training image, the VAE's {vae8:.3f} (real test images {test_nn:.3f})")
    print(f"note: with K=2 the distances are {ae2:.3f} and {vae2:.3f}. N(0, I) falls on one "
          "corner of\n"
          "      the autoencoder's code cloud (10_codes.png), so its random samples are "
          "plausible digits,\n"
          "      but not in the data's proportions (the class-mix KL above). With K=8 its "
          "codes fill much\n"
          "      less of the space and most random codes decode to smudges.")


# %% [markdown]
# ## The figures
#
# The 2-D codes of both models against circles of 1 and 2 standard deviations of
# $\mathcal{N}(0, I)$, where sampling draws $z$; and, for each latent size, 30 random
# codes decoded by the autoencoder (top) and 30 by the VAE (bottom).

# %%
def draw_figures(results: dict, train_set, out) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharex=True, sharey=True)
    theta = np.linspace(0, 2 * np.pi, 200)  # (200,)
    for ax, name in zip(axes, ("autoencoder", "VAE"), strict=True):
        codes = results[2][name]["codes"]  # (N_train, 2)
        sc = ax.scatter(codes[:, 0], codes[:, 1], c=train_set.y, cmap="tab10", s=4, vmin=-0.5,
                        vmax=9.5)
        for radius in (1, 2):
            ax.plot(radius * np.cos(theta), radius * np.sin(theta), "k--", lw=0.8)
        ax.set_title(f"{name}: codes of the training images")
        ax.set_xlabel("z1")
    axes[0].set_ylabel("z2")
    fig.suptitle("K = 2; dashed circles: 1 and 2 standard deviations of N(0, I), where "
                 "sampling draws z")
    fig.colorbar(sc, ax=axes, ticks=range(10), label="class")
    _common.save_figure(fig, out / "10_codes.png")
    for latent in (2, 8):
        grid = np.concatenate([results[latent]["autoencoder"]["samples"][:30],
                               results[latent]["VAE"]["samples"][:30]])  # (60, D)
        path = out / f"10_samples_k{latent}.png"
        plots.image_grid(grid, train_set.image_shape, path, ncols=10,
                         title=f"z ~ N(0, I), K = {latent}: autoencoder (top 3 rows), "
                               "VAE (bottom 3)")
        _common.announce(path)


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    check = _common.Checks()
    data = _common.load_data(False)
    yardsticks = make_yardsticks(*data)
    results = {latent: compare_models(latent, data, yardsticks, args.seed, check)
               for latent in (2, 8)}
    check_distances(results, yardsticks["test_nn"], check)
    draw_figures(results, data[0], args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
