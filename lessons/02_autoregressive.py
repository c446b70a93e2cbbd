# %%
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

Shows: p(x) = prod p(x_i | x_<i): an exact, normalised density on binarized digits, and
       its pixel-by-pixel sampling timed against one VAE decode.
Run:  python lessons/02_autoregressive.py            (about 5 s, binarized 8x8 digits)
      python lessons/02_autoregressive.py --full     (binarized MNIST, 784 steps per image)
Writes lessons/output/02_samples.png: autoregressive samples (top) and VAE samples (bottom,
drawn as the decoder's pixel probabilities).
"""

import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots

# %% [markdown]
# # Lesson 02: a tractable explicit density
#
# Generative models come in two kinds. **Explicit-density** models define $p(x)$, the
# probability that the model generates the image $x$, and train by making the training
# images probable (the VAE is one). **Implicit-density** models generate without ever
# defining $p(x)$ (the GAN). Among the explicit ones, the simplest $p(x)$ that can be
# computed exactly multiplies, pixel by pixel, the probability of each pixel given all
# the pixels before it:
#
# $$p(x) = \prod_{i=1}^{D} p(x_i \mid x_1, \dots, x_{i-1}).$$
#
# Maximising it is ordinary maximum likelihood. PixelCNN predicts each pixel with masked
# convolutions; here the prediction is the smallest possible one, a logistic regression
# on the earlier pixels (the fully visible logistic autoregressive model):
#
# $$p(x_i = 1 \mid x_{<i}) = \sigma\Big(b_i + \sum_{j<i} x_j W_{ji}\Big),$$
#
# with $W$ multiplied by a mask $M_{ji} = [j < i]$, so that all $D$ predictions come from
# one matrix product.

# %%
SMALL_D = 10  # 2^10 = 1024 binary images: small enough to sum p(x) over all of them


def all_binary_images(d: int) -> np.ndarray:
    """Every binary image of d pixels, one per row: (2^d, d)."""
    codes = np.arange(2**d)[:, None]  # (2^d, 1)
    return ((codes >> np.arange(d)) & 1).astype(np.float64)  # (2^d, d) the bits of each code


def best_time(fn, repeats: int = 7) -> float:
    """Fastest of several runs: the least disturbed by other processes on the machine."""
    times = []
    for _ in range(repeats):
        with _common.stopwatch() as t:
            fn()
        times.append(t[0])
    return min(times)


# %% [markdown]
# ## An exact density
#
# Each factor is a Bernoulli distribution over $x_i \in \{0, 1\}$, so the product is a
# normalised distribution over all $2^D$ binary images, for any weights:
# $\sum_x p(x) = 1$. With $D = 10$ the sum has only 1024 terms and can be computed.

# %%
def check_exact_density(rng: np.random.Generator, check) -> None:
    """A random SMALL_D-pixel model sums to 1 over all 2^SMALL_D binary images."""
    _common.section(f"an exact density: a random {SMALL_D}-pixel model summed over all "
                    f"{2**SMALL_D} images")
    small = nv.LogisticAutoregressive(SMALL_D)
    small_params = small.init_params(rng, dtype=np.float64)
    small_params["W"][...] = 2 * rng.standard_normal((SMALL_D, SMALL_D)) * small.mask
    small_params["b"][...] = rng.standard_normal(SMALL_D)
    log_p = small.log_prob(small_params, all_binary_images(SMALL_D))  # (1024,)
    total = np.exp(log_p).sum()
    check(abs(total - 1) < 1e-12,
          f"sum_x p(x) = {total:.15f}  |diff from 1| = {abs(total - 1):.1e}")


# %% [markdown]
# ## Maximum likelihood
#
# Because $\log p(x) = \sum_i \log p(x_i \mid x_{<i})$ is exact, the model is trained by
# minimising $-\log p(x)$ itself, with no bound in between, and the test set's
# $\log p(x)$ measures it exactly.

# %%
def train_model(train, test, full: bool, rng: np.random.Generator, check):
    """Fit the autoregressive model to the binarized training images; returns (model, params)."""
    d = train.x.shape[1]
    _common.section(f"maximum likelihood on {len(train)} binarized {train.name} images of "
                    f"{d} pixels")
    model = nv.LogisticAutoregressive(d)
    params = model.init_params(rng)
    epochs = 20 if full else 30
    before = model.loss(params, test.x).loss
    with _common.stopwatch() as t_fit:
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(1e-2), epochs=epochs,
                         rng=rng, batch_size=64 if not full else 256)
    after = history[-1]["test_loss"]
    print(f"  {epochs} epochs in {t_fit[0]:.1f} s")
    check(after < before - 5,
          f"exact test log p(x): {-before:.3f} nats per image untrained -> {-after:.3f} trained")
    return model, params


# %% [markdown]
# The gradient of $-\log p(x)$ with respect to $b$ and $W$ is written by hand in
# `numvae`; central differences in float64 check it (every $b_i$, and 200 random
# unmasked entries of $W$).

# %%
def check_gradient(model, params, test, rng: np.random.Generator, check) -> None:
    """The hand-written gradient of -log p(x) against central differences, in float64."""
    sub = test.x[:64].astype(np.float64)  # (64, D)
    params64 = params.astype(np.float64)
    _, grads = model.loss_and_grads(params64, sub)
    grads_b = grads["b"].copy()  # (D,)
    numeric_b = nv.numerical_gradient(lambda b: model.loss(params64, sub).loss,
                                      params64["b"])  # (D,)
    # W has d^2 entries; checking a random 200 of them keeps this fast on MNIST too
    rows, cols = np.nonzero(model.mask)  # the unmasked entries, (D(D-1)/2,) each
    pick = rng.choice(rows.size, size=min(200, rows.size), replace=False)  # (200,)
    numeric_w = []
    for j, i in zip(rows[pick], cols[pick], strict=True):
        w = params64["W"][j:j + 1, i]  # a one-element view, perturbed in place
        numeric_w.append(nv.numerical_gradient(lambda _: model.loss(params64, sub).loss, w)[0])
    err = max(nv.rel_error(grads_b, numeric_b),
              nv.rel_error(grads["W"][rows[pick], cols[pick]], numeric_w))
    check(err < 1e-6, f"hand-written gradient of -log p(x) against central differences "
                      f"(float64, b and {pick.size} entries of W): rel. error {err:.1e}")


# %% [markdown]
# The mask is what makes the product a valid chain rule of probability: the prediction
# for pixel $i$ may depend on $x_1, \dots, x_{i-1}$ only. Flipping pixel $j$ must leave
# every prediction for pixels $1, \dots, j$ unchanged.

# %%
def check_autoregressive(model, params, test, check) -> None:
    """Flipping pixel j changes no prediction for pixels 1..j."""
    x = test.x[:32].astype(np.float32)  # (32, D)
    d = x.shape[1]
    base = model.logits(params, x)  # (32, D)
    earlier_changed = 0
    for j in range(d):
        flipped = x.copy()
        flipped[:, j] = 1 - flipped[:, j]
        changed = np.any(model.logits(params, flipped) != base, axis=0)  # (D,)
        earlier_changed += int(changed[: j + 1].sum())
    check(earlier_changed == 0,
          f"flipping pixel j changes no prediction for pixels 1..j ({d} pixels flipped in turn, "
          f"{earlier_changed} such changes): the model is autoregressive")


# %% [markdown]
# ## Sampling, one pixel at a time
#
# The lecture's objection to this approach: the pixels must be generated in order,
# starting from the corner, because $x_i$ can only be drawn once $x_1, \dots, x_{i-1}$
# exist. That is $D$ dependent steps per image. A VAE draws $z \sim p(z)$ and decodes all
# pixels in one pass. (The VAE is trained here only to be timed; lessons 03 to 09 build it.)

# %%
def train_vae(train, test, full: bool, rng: np.random.Generator):
    """A small VAE on the same images, for the sampling comparison; returns (vae, params)."""
    _common.section("sampling: one pixel at a time")
    vae = nv.VAE(nv.ModelConfig(input_dim=train.x.shape[1], hidden=(128,), latent=8))
    vae_params = vae.init_params(rng)
    nv.fit(vae, vae_params, train.x, test.x, optimizer=nv.Adam(3e-3),
           epochs=5 if full else 60, rng=rng, batch_size=64 if not full else 256)
    elbo = -nv.evaluate(vae, vae_params, test.x, rng)["loss"]
    print(f"  for comparison, a VAE (latent 8) on the same test images: ELBO {elbo:.3f} nats per "
          f"image,\n  a lower bound on its own log p(x) (lesson 11 estimates how loose)")
    return vae, vae_params


def check_sampling_time(model, params, vae, vae_params, rng: np.random.Generator, check) -> None:
    """Autoregressive sampling (D sequential steps) against one VAE decoder pass."""
    d, n = model.input_dim, 100
    t_ar = best_time(lambda: model.sample(params, n, rng))
    t_vae = best_time(lambda: vae.sample(vae_params, n, rng))
    print(f"  {n} images: autoregressive {t_ar * 1e3:.2f} ms in {d} sequential steps; "
          f"VAE {t_vae * 1e3:.3f} ms in 1 decoder pass")
    check(t_ar > t_vae, f"autoregressive sampling is slower than one VAE decode: "
                        f"{t_ar / t_vae:.1f}x ({d} dependent steps, each waiting for the pixels "
                        "before it)")


# %% [markdown]
# ## The figure
#
# Thirty autoregressive samples above thirty VAE samples, the latter drawn as the
# decoder's pixel probabilities $p(x_i = 1 \mid z)$.

# %%
def draw_figure(model, params, vae, vae_params, image_shape, rng: np.random.Generator,
                out) -> None:
    samples = np.concatenate([model.sample(params, 30, rng),
                              vae.sample(vae_params, 30, rng)])  # (60, D)
    plots.image_grid(samples, image_shape, out / "02_samples.png", ncols=10,
                     title="autoregressive samples (top 3 rows); "
                           "VAE: p(x_i = 1 | z), z ~ N(0, I) (bottom 3)")
    _common.announce(out / "02_samples.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv,
                              full_help="binarized MNIST (784 pixels) instead of 8x8 digits")
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(args.full, binarize="static")
    check_exact_density(rng, check)
    model, params = train_model(train, test, args.full, rng, check)
    check_gradient(model, params, test, rng, check)
    check_autoregressive(model, params, test, check)
    vae, vae_params = train_vae(train, test, args.full, rng)
    check_sampling_time(model, params, vae, vae_params, rng, check)
    draw_figure(model, params, vae, vae_params, train.image_shape, rng, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
