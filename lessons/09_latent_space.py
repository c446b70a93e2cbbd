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

Run:  python lessons/09_latent_space.py            (about 3 s, 8x8 digits)
      python lessons/09_latent_space.py --full     (MNIST, a few minutes)
Writes lessons/output/09_latent_scatter.png (codes by class), 09_manifold.png (the seed's
21 x 21 grid), 09_manifold_prior.png (the grid through the inverse Gaussian CDF, covering
p(z) evenly) and 09_loss_curves.png.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

import numvae as nv
from numvae.plumbing import plots

Z1_RANGE, Z2_RANGE, GRID = (-10.0, 5.0), (-5.0, 5.0), 21  # the seed's ranges


def knn_accuracy(train_codes, train_y, test_codes, test_y) -> float:
    """How well the digit can be read off the code: 5-nearest-neighbour accuracy on the test set."""
    return float(KNeighborsClassifier(n_neighbors=5).fit(train_codes, train_y).score(test_codes, test_y))


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv, full_help="MNIST (28x28) instead of the 8x8 digits; slow")
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(args.full)
    d = train.x.shape[1]
    hidden, epochs, batch = ((512,), 20, 100) if train.name != "digits" else ((128,), 100, 64)

    model = nv.VAE(nv.ModelConfig(input_dim=d, hidden=hidden, latent=2, variance_head="relu"))
    params = model.init_params(rng)
    acc_untrained = knn_accuracy(model.encode(params, train.x)[0], train.y, model.encode(params, test.x)[0],
                                 test.y)

    _common.section(f"training on {train.name} ({d} pixels): hidden {hidden}, 2-D latent, ReLU + 0.05 head")
    with _common.stopwatch() as t:
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(3e-3 if d < 100 else 1e-3),
                         epochs=epochs, rng=rng, batch_size=batch)
    for record in history[:: max(1, epochs // 5)] + history[-1:]:
        print("  " + nv.train.format_record(record))
    print(f"  {epochs} epochs in {t[0]:.1f} s")
    check(history[-1]["test_loss"] < history[0]["test_loss"],
          f"test -ELBO {history[0]['test_loss']:.3f} after epoch 1 -> {history[-1]['test_loss']:.3f} after "
          f"epoch {epochs} (reconstruction {history[-1]['test_recon']:.3f} + KL "
          f"{history[-1]['test_kl']:.3f})")

    _common.section("the latent space")
    mu_train, _ = model.encode(params, train.x)
    mu_test, logvar_test = model.encode(params, test.x)
    acc = knn_accuracy(mu_train, train.y, mu_test, test.y)
    check(acc > acc_untrained + 0.2,
          f"codes group by class: 5-NN accuracy from the 2-D code {acc:.1%} (untrained encoder "
          f"{acc_untrained:.1%}, chance 10%)")
    agg_kl = nv.aggregate_posterior_kl(mu_test, logvar_test)
    mean, cov = nv.aggregate_posterior_moments(mu_test, logvar_test)
    print(f"  aggregate posterior of the test set: mean {np.round(mean, 3)}, standard deviations "
          f"{np.round(np.sqrt(np.diag(cov)), 3)}")
    # for scale: codes centred but 1.5 times too wide give 0.44 nats, 1.5 times too narrow 0.26
    check(agg_kl < 0.4, f"the codes fill the prior that sampling draws from: KL(N(mean, cov) || N(0, I)) "
                        f"= {agg_kl:.4f} nats")
    inside = np.mean((mu_test[:, 0] >= Z1_RANGE[0]) & (mu_test[:, 0] <= Z1_RANGE[1])
                     & (mu_test[:, 1] >= Z2_RANGE[0]) & (mu_test[:, 1] <= Z2_RANGE[1]))
    far_left = np.mean(mu_test[:, 0] < -3)
    check(inside > 0.99 and far_left < 0.01,
          f"{inside:.1%} of the test codes fall inside the seed's window z1 in {list(Z1_RANGE)}, z2 in "
          f"{list(Z2_RANGE)}; only {far_left:.1%} have z1 < -3, so the window's left part decodes codes "
          "no image was encoded to")

    z1, z2 = np.linspace(*Z1_RANGE, GRID), np.linspace(*Z2_RANGE, GRID)
    zz1, zz2 = np.meshgrid(z1, z2)
    tiles = model.decode(params, np.column_stack([zz1.ravel(), zz2.ravel()]).astype(np.float32))
    tiles = tiles.reshape(GRID, GRID, d)
    adjacent = np.linalg.norm(tiles[:, 1:] - tiles[:, :-1], axis=-1).mean()
    flat = tiles.reshape(-1, d)
    pairs = rng.integers(0, flat.shape[0], size=(2000, 2))
    random_pairs = np.linalg.norm(flat[pairs[:, 0]] - flat[pairs[:, 1]], axis=-1).mean()
    check(adjacent < random_pairs / 2,
          f"the decoder is continuous: neighbouring grid codes decode {adjacent:.3f} apart on average, "
          f"random pairs of grid codes {random_pairs:.3f}")

    out = args.out
    plots.latent_scatter(mu_test, test.y, out / "09_latent_scatter.png",
                         title=f"means of q(z|x) for the {len(test)} test images")
    _common.announce(out / "09_latent_scatter.png")
    decode = lambda z: model.decode(params, z)  # noqa: E731
    plots.manifold_grid(decode, train.image_shape, out / "09_manifold.png", z1_range=Z1_RANGE,
                        z2_range=Z2_RANGE, n=GRID)
    _common.announce(out / "09_manifold.png")
    plots.manifold_grid(decode, train.image_shape, out / "09_manifold_prior.png", n=GRID, inverse_cdf=True)
    _common.announce(out / "09_manifold_prior.png")
    plots.loss_curves(history, out / "09_loss_curves.png")
    _common.announce(out / "09_loss_curves.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
