"""Lesson 02: a tractable explicit density, p(x) = prod_i p(x_i | x_1, ..., x_{i-1}).

The seed's first way to define p(x) so that it can be maximised directly: predict each
pixel from the pixels before it and multiply the predictions (PixelCNN does this with
convolutions). Here is the smallest such model, the fully visible logistic
autoregressive model: p(x_i = 1 | x_<i) = sigmoid(b_i + sum_{j<i} x_j W_ji), with W masked
so that pixel i sees only the pixels before it. The lesson shows that

  * its p(x) is an exact, normalised density (it sums to 1 over every binary image);
  * the mask makes it autoregressive (a pixel's prediction ignores itself and later pixels);
  * its gradient is right, and maximum likelihood trains it (exact test log-likelihood);
  * sampling is the catch: D pixels need D sequential steps, timed against the one
    decoder pass a VAE needs for the same images.

Run:  python lessons/02_autoregressive.py            (about 3 s, binarized 8x8 digits)
      python lessons/02_autoregressive.py --full     (binarized MNIST, 784 steps per image)
Writes lessons/output/02_samples.png: autoregressive samples (top) and VAE samples (bottom,
drawn as the decoder's pixel probabilities).
"""

from __future__ import annotations

import sys

import _common
import numpy as np

import numvae as nv
from numvae.plumbing import plots

SMALL_D = 10  # 2^10 = 1024 binary images: small enough to sum p(x) over all of them


def all_binary_images(d: int) -> np.ndarray:
    """Every binary image of d pixels, one per row: (2^d, d)."""
    codes = np.arange(2**d)[:, None]
    return ((codes >> np.arange(d)) & 1).astype(np.float64)


def best_time(fn, repeats: int = 7) -> float:
    """Fastest of several runs: the least disturbed by other processes on the machine."""
    times = []
    for _ in range(repeats):
        with _common.stopwatch() as t:
            fn()
        times.append(t[0])
    return min(times)


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv, full_help="binarized MNIST (784 pixels) instead of 8x8 digits")
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(args.full, binarize="static")
    d = train.x.shape[1]

    _common.section(f"an exact density: a random {SMALL_D}-pixel model summed over all {2**SMALL_D} images")
    small = nv.LogisticAutoregressive(SMALL_D)
    small_params = small.init_params(rng, dtype=np.float64)
    small_params["W"][...] = 2 * rng.standard_normal((SMALL_D, SMALL_D)) * small.mask
    small_params["b"][...] = rng.standard_normal(SMALL_D)
    total = np.exp(small.log_prob(small_params, all_binary_images(SMALL_D))).sum()
    check(abs(total - 1) < 1e-12, f"sum_x p(x) = {total:.15f}  |diff from 1| = {abs(total - 1):.1e}")

    _common.section(f"maximum likelihood on {len(train)} binarized {train.name} images of {d} pixels")
    model = nv.LogisticAutoregressive(d)
    params = model.init_params(rng)
    epochs = 20 if args.full else 30
    before = model.loss(params, test.x).loss
    with _common.stopwatch() as t_fit:
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(1e-2), epochs=epochs, rng=rng,
                         batch_size=64 if not args.full else 256)
    after = history[-1]["test_loss"]
    print(f"  {epochs} epochs in {t_fit[0]:.1f} s")
    check(after < before - 5,
          f"exact test log p(x): {-before:.3f} nats per image untrained -> {-after:.3f} trained")

    sub = test.x[:64].astype(np.float64)
    params64 = params.astype(np.float64)
    _, grads = model.loss_and_grads(params64, sub)
    grads_b = grads["b"].copy()
    numeric_b = nv.numerical_gradient(lambda b: model.loss(params64, sub).loss, params64["b"])
    # W has d^2 entries; checking a random 200 of them keeps this fast on MNIST too
    rows, cols = np.nonzero(model.mask)
    pick = rng.choice(rows.size, size=min(200, rows.size), replace=False)
    numeric_w = []
    for j, i in zip(rows[pick], cols[pick], strict=True):
        w = params64["W"][j:j + 1, i]  # a one-element view, perturbed in place
        numeric_w.append(nv.numerical_gradient(lambda _: model.loss(params64, sub).loss, w)[0])
    err = max(nv.rel_error(grads_b, numeric_b), nv.rel_error(grads["W"][rows[pick], cols[pick]], numeric_w))
    check(err < 1e-6, f"hand-written gradient of -log p(x) against central differences (float64, b and "
                      f"{pick.size} entries of W): rel. error {err:.1e}")

    x = test.x[:32].astype(np.float32)
    base = model.logits(params, x)
    earlier_changed = 0
    for j in range(d):
        flipped = x.copy()
        flipped[:, j] = 1 - flipped[:, j]
        changed = np.any(model.logits(params, flipped) != base, axis=0)
        earlier_changed += int(changed[: j + 1].sum())
    check(earlier_changed == 0, f"flipping pixel j changes no prediction for pixels 1..j ({d} pixels flipped "
                                f"in turn, {earlier_changed} such changes): the model is autoregressive")

    _common.section("sampling: one pixel at a time")
    vae = nv.VAE(nv.ModelConfig(input_dim=d, hidden=(128,), latent=8))
    vae_params = vae.init_params(rng)
    nv.fit(vae, vae_params, train.x, test.x, optimizer=nv.Adam(3e-3), epochs=5 if args.full else 60, rng=rng,
           batch_size=64 if not args.full else 256)
    elbo = -nv.evaluate(vae, vae_params, test.x, rng)["loss"]
    print(f"  for comparison, a VAE (latent 8) on the same test images: ELBO {elbo:.3f} nats per image,\n"
          f"  a lower bound on its own log p(x) (lesson 11 estimates how loose)")
    n = 100
    t_ar = best_time(lambda: model.sample(params, n, rng))
    t_vae = best_time(lambda: vae.sample(vae_params, n, rng))
    print(f"  {n} images: autoregressive {t_ar * 1e3:.2f} ms in {d} sequential steps; "
          f"VAE {t_vae * 1e3:.3f} ms in 1 decoder pass")
    check(t_ar > t_vae, f"autoregressive sampling is slower than one VAE decode: {t_ar / t_vae:.1f}x "
                        f"({d} dependent steps, each waiting for the pixels before it)")

    samples = np.concatenate([model.sample(params, 30, rng), vae.sample(vae_params, 30, rng)])
    plots.image_grid(samples, train.image_shape, args.out / "02_samples.png", ncols=10,
                     title="autoregressive samples (top 3 rows); VAE: p(x_i = 1 | z), z ~ N(0, I) (bottom 3)")
    _common.announce(args.out / "02_samples.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
