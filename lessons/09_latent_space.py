# %%
"""Lesson 09: training the seed's VAE with a 2-D latent, and looking at its latent space.

The seed's implementation: an encoder whose sigma is ReLU(.) + 0.05, a 2-D code, binary
cross-entropy summed over pixels and KL summed over the latent dimensions, both averaged
over the batch. After training it draws two pictures, reproduced here:

  * the test set's codes (the means of q(z|x)) scattered in the plane, coloured by digit;
  * a 21 x 21 grid of codes, z1 from -10 to 5 and z2 from -5 to 5, each decoded to an image.

The lesson checks what the pictures claim: the codes group by class (a nearest-neighbour
classifier reads the digit off a 2-D code far better than off an untrained encoder's), they
fill the prior N(0, I) that sampling draws from, and the decoder is continuous (neighbouring
codes decode to similar images).

Shows: the seed's 2-D VAE: test codes by class, the 21x21 grid over z1 in [-10, 5],
       z2 in [-5, 5].
Run:  python lessons/09_latent_space.py            (about 8 s, 8x8 digits)
      python lessons/09_latent_space.py --full     (MNIST, a few minutes)
Writes lessons/output/09_latent_scatter.png (codes by class), 09_manifold.png (the seed's
21 x 21 grid), 09_manifold_prior.png (the grid through the inverse Gaussian CDF, covering
p(z) evenly) and 09_loss_curves.png.
"""

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

import numvae as nv
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots

# %% [markdown]
# # Lesson 09: the seed's VAE and its latent space
#
# Everything so far, assembled: the encoder of lesson 08 with the seed's head
# $\sigma = \mathrm{ReLU}(\cdot) + 0.05$, a **2-D** code so that the latent space can be
# looked at, the loss of lesson 08 (binary cross-entropy summed over pixels plus the KL
# summed over the latent dimensions, both averaged over the batch), trained with Adam.
#
# After training, the lecture draws two pictures:
#
# * the codes of the test images scattered in the plane and coloured by digit. Unlike an
#   autoencoder's, each code is a distribution $q(z|x)$ (the dot is its mean), and
#   similar images get similar distributions;
# * a $21 \times 21$ grid of codes, $z_1$ from $-10$ to $5$ and $z_2$ from $-5$ to $5$,
#   each decoded to an image. Decoding codes that were never the code of any image is
#   generation: a code anywhere inside a region the decoder learned decodes to an image
#   of that region's digit.
#
# The lesson checks what the pictures claim.

# %%
Z1_RANGE, Z2_RANGE, GRID = (-10.0, 5.0), (-5.0, 5.0), 21  # the seed's ranges


def knn_accuracy(train_codes, train_y, test_codes, test_y) -> float:
    """How well the digit can be read off the code: 5-nearest-neighbour accuracy on the test set."""
    classifier = KNeighborsClassifier(n_neighbors=5).fit(train_codes, train_y)
    return float(classifier.score(test_codes, test_y))


# %% [markdown]
# ## Training
#
# On the 8x8 digits (64 pixels): hidden 128, 100 epochs; with `--full` on MNIST: hidden
# 512, 20 epochs. Before training, the untrained encoder's codes are kept for comparison.

# %%
def train_seed_vae(train, test, rng: np.random.Generator, check) -> dict:
    """The seed's 2-D VAE with the ReLU + 0.05 head; returns model, params, history."""
    d = train.x.shape[1]
    hidden, epochs, batch = ((512,), 20, 100) if train.name != "digits" else ((128,), 100, 64)
    model = nv.VAE(nv.ModelConfig(input_dim=d, hidden=hidden, latent=2, variance_head="relu"))
    params = model.init_params(rng)
    acc_untrained = knn_accuracy(model.encode(params, train.x)[0], train.y,
                                 model.encode(params, test.x)[0], test.y)

    _common.section(f"training on {train.name} ({d} pixels): hidden {hidden}, 2-D latent, "
                    "ReLU + 0.05 head")
    with _common.stopwatch() as t:
        history = nv.fit(model, params, train.x, test.x,
                         optimizer=nv.Adam(3e-3 if d < 100 else 1e-3), epochs=epochs, rng=rng,
                         batch_size=batch)
    for record in history[:: max(1, epochs // 5)] + history[-1:]:
        print("  " + nv.train.format_record(record))
    print(f"  {epochs} epochs in {t[0]:.1f} s")
    check(history[-1]["test_loss"] < history[0]["test_loss"],
          f"test -ELBO {history[0]['test_loss']:.3f} after epoch 1 -> "
          f"{history[-1]['test_loss']:.3f} after epoch {epochs} (reconstruction "
          f"{history[-1]['test_recon']:.3f} + KL {history[-1]['test_kl']:.3f})")
    return {"model": model, "params": params, "history": history, "acc_untrained": acc_untrained}


# %% [markdown]
# ## The latent space
#
# Three claims of the scatter plot:
#
# * **codes group by class**: a 5-nearest-neighbour classifier reads the digit off the
#   2-D code far better than off the untrained encoder's;
# * **the codes fill the prior** that sampling draws from. Their aggregate posterior
#   $q(z) = \frac{1}{N} \sum_n q(z|x_n)$, summarised by its mean and covariance, is
#   compared with $p(z)$ by $\mathrm{KL}(\mathcal{N}(\bar\mu, \bar\Sigma) \,\|\,
#   \mathcal{N}(0, I))$. For scale: codes centred but 1.5 times too wide would give 0.44
#   nats, 1.5 times too narrow 0.26;
# * the seed's window, $z_1 \in [-10, 5]$, $z_2 \in [-5, 5]$, holds nearly all the codes,
#   but its left part lies far outside them: those tiles decode codes that no image was
#   encoded to.

# %%
def check_latent_space(vae: dict, train, test, check) -> np.ndarray:
    """Codes group by class, fill the prior, and fall inside the seed's window."""
    model, params = vae["model"], vae["params"]
    _common.section("the latent space")
    mu_train, _ = model.encode(params, train.x)  # (N_train, 2)
    mu_test, logvar_test = model.encode(params, test.x)  # (N_test, 2) each
    acc = knn_accuracy(mu_train, train.y, mu_test, test.y)
    check(acc > vae["acc_untrained"] + 0.2,
          f"codes group by class: 5-NN accuracy from the 2-D code {acc:.1%} (untrained encoder "
          f"{vae['acc_untrained']:.1%}, chance 10%)")
    agg_kl = nv.aggregate_posterior_kl(mu_test, logvar_test)
    mean, cov = nv.aggregate_posterior_moments(mu_test, logvar_test)  # (2,), (2, 2)
    print(f"  aggregate posterior of the test set: mean {np.round(mean, 3)}, standard deviations "
          f"{np.round(np.sqrt(np.diag(cov)), 3)}")
    # for scale: codes centred but 1.5 times too wide give 0.44 nats, 1.5 times too narrow 0.26
    check(agg_kl < 0.4, f"the codes fill the prior that sampling draws from: KL(N(mean, cov) || "
                        f"N(0, I)) = {agg_kl:.4f} nats")
    inside = np.mean((mu_test[:, 0] >= Z1_RANGE[0]) & (mu_test[:, 0] <= Z1_RANGE[1])
                     & (mu_test[:, 1] >= Z2_RANGE[0]) & (mu_test[:, 1] <= Z2_RANGE[1]))
    far_left = np.mean(mu_test[:, 0] < -3)
    check(inside > 0.99 and far_left < 0.01,
          f"{inside:.1%} of the test codes fall inside the seed's window z1 in {list(Z1_RANGE)}, "
          f"z2 in {list(Z2_RANGE)}; only {far_left:.1%} have z1 < -3, so the window's left part "
          "decodes codes no image was encoded to")
    return mu_test


# %% [markdown]
# ## The decoder is continuous
#
# The grid picture only reads as a smooth "manifold" of digits if neighbouring codes
# decode to similar images: the mean distance between horizontally adjacent tiles should
# be well below the mean distance between random pairs of tiles.

# %%
def check_continuity(vae: dict, d: int, rng: np.random.Generator, check) -> None:
    """Neighbouring grid codes decode to closer images than random pairs of grid codes."""
    z1, z2 = np.linspace(*Z1_RANGE, GRID), np.linspace(*Z2_RANGE, GRID)  # (GRID,) each
    zz1, zz2 = np.meshgrid(z1, z2)  # (GRID, GRID) each
    codes = np.column_stack([zz1.ravel(), zz2.ravel()]).astype(np.float32)  # (GRID^2, 2)
    tiles = vae["model"].decode(vae["params"], codes).reshape(GRID, GRID, d)  # (GRID, GRID, D)
    adjacent = np.linalg.norm(tiles[:, 1:] - tiles[:, :-1], axis=-1).mean()
    flat = tiles.reshape(-1, d)  # (GRID^2, D)
    pairs = rng.integers(0, flat.shape[0], size=(2000, 2))  # (2000, 2) random tile indices
    random_pairs = np.linalg.norm(flat[pairs[:, 0]] - flat[pairs[:, 1]], axis=-1).mean()
    check(adjacent < random_pairs / 2,
          f"the decoder is continuous: neighbouring grid codes decode {adjacent:.3f} apart on "
          f"average, random pairs of grid codes {random_pairs:.3f}")


# %% [markdown]
# ## The figures
#
# The seed's two pictures, plus the same grid taken through the inverse Gaussian CDF
# (evenly spaced quantiles of $p(z)$ rather than evenly spaced coordinates, so every tile
# is an equally likely region of the prior) and the loss curves.

# %%
def draw_figures(vae: dict, mu_test: np.ndarray, test, image_shape, out) -> None:
    model, params = vae["model"], vae["params"]
    plots.latent_scatter(mu_test, test.y, out / "09_latent_scatter.png",
                         title=f"means of q(z|x) for the {len(test)} test images")
    _common.announce(out / "09_latent_scatter.png")

    def decode(z):  # (M, 2) -> (M, D) pixel probabilities
        return model.decode(params, z)

    plots.manifold_grid(decode, image_shape, out / "09_manifold.png", z1_range=Z1_RANGE,
                        z2_range=Z2_RANGE, n=GRID)
    _common.announce(out / "09_manifold.png")
    plots.manifold_grid(decode, image_shape, out / "09_manifold_prior.png", n=GRID,
                        inverse_cdf=True)
    _common.announce(out / "09_manifold_prior.png")
    plots.loss_curves(vae["history"], out / "09_loss_curves.png")
    _common.announce(out / "09_loss_curves.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv,
                              full_help="MNIST (28x28) instead of the 8x8 digits; slow")
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(args.full)
    vae = train_seed_vae(train, test, rng, check)
    mu_test = check_latent_space(vae, train, test, check)
    check_continuity(vae, train.x.shape[1], rng, check)
    draw_figures(vae, mu_test, test, train.image_shape, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
