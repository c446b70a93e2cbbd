"""Lesson 06: maximum likelihood turns into the familiar losses.

The seed's "Maximum Likelihood Estimation" section: training a model means making the
observed y as probable as possible under the distribution the model outputs, i.e.
minimising -log p(y | f_theta(x)). Which loss that is depends on the distribution:

  Gaussian, mean f(x), sigma = 1:  -log p = (y - f(x))^2 / 2 + log sqrt(2 pi)     -> mean squared error
  Bernoulli, p = f(x):             -log p = -[y log p + (1 - y) log(1 - p)]         -> cross-entropy

The lesson checks both numerically, constants included, on whole images (summed over
pixels, as the VAE's reconstruction term is) against independent implementations
(scikit-learn's mean_squared_error and log_loss, scipy's densities); shows that sigma only
rescales the squared error, so every sigma has the same best prediction; that both
gradients are "prediction minus target"; and what the seed's cross-entropy does with grey
pixels, which are not 0 or 1.

Run:  python lessons/06_maximum_likelihood.py     (about 2 s)
Writes lessons/output/06_likelihoods.png: -log N(y | mu, 1) against the squared error, and
-log Bernoulli(y | p) for y = 1, 0 and a grey 0.3.
"""

from __future__ import annotations

import math
import sys

import _common
import matplotlib.pyplot as plt
import numpy as np
from scipy import special, stats
from sklearn.metrics import log_loss, mean_squared_error

import numvae as nv


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    check = _common.Checks()
    train, test = _common.load_data(False)
    x = test.x.astype(np.float64)  # (N, D) grey levels in [0, 1]
    n, d = x.shape
    mean_image = train.x.mean(axis=0).astype(np.float64)

    _common.section("the seed's univariate example")
    y, mu = 0.8, 0.3
    nll = -nv.gaussian_log_prob(np.array([[y]]), np.array([[mu]]), 0.0)[0]
    print(f"  y = {y}, mu = {mu}:  -log N(y | mu, 1) = {nll:.6f}  =  log sqrt(2 pi) "
          f"{0.5 * math.log(2 * math.pi):.6f}  +  (y - mu)^2 / 2 {(y - mu) ** 2 / 2:.6f}")
    check(abs(nll - (0.5 * math.log(2 * math.pi) + (y - mu) ** 2 / 2)) < 1e-15,
          "-log N(y | mu, 1) = (y - mu)^2 / 2 + log sqrt(2 pi), exactly")

    _common.section(f"Gaussian, sigma = 1: {n} test images of {d} pixels, predicted by the mean image")
    m = np.broadcast_to(mean_image, x.shape)
    nll_gauss = -nv.gaussian_log_prob(x, m, 0.0)  # (N,) summed over pixels
    mse = mean_squared_error(x, m)  # scikit-learn: averaged over pixels and images
    via_mse = d / 2 * mse + d / 2 * math.log(2 * math.pi)
    via_scipy = -stats.norm.logpdf(x, m, 1.0).sum(axis=1).mean()
    print(f"  mean over images of -log p(x | m) = {nll_gauss.mean():.10f} nats")
    print(f"  D/2 * MSE + D/2 * log(2 pi)       = {via_mse:.10f}   (MSE = {mse:.6f})")
    print(f"  scipy.stats.norm                  = {via_scipy:.10f}")
    check(abs(nll_gauss.mean() - via_mse) < 1e-9 and abs(nll_gauss.mean() - via_scipy) < 1e-9,
          f"-log N(x | m, I) = D/2 MSE + D/2 log 2 pi: {nll_gauss.mean():.6f} = {via_mse:.6f}, "
          f"|diff| = {abs(nll_gauss.mean() - via_mse):.1e}")

    grey = np.linspace(0, 1, 201)  # candidate predictions: one grey level for every pixel
    pixels = train.x.astype(np.float64).reshape(1, -1)
    argmins = {}
    for sigma in (1.0, 0.1):
        cost = [-nv.gaussian_log_prob(pixels, np.full_like(pixels, c), 2 * math.log(sigma))[0] for c in grey]
        argmins[f"-log N, sigma = {sigma}"] = grey[int(np.argmin(cost))]
    mse_cost = [mean_squared_error(pixels[0], np.full(pixels.size, c)) for c in grey]
    argmins["MSE"] = grey[int(np.argmin(mse_cost))]
    print("  the best single grey level for every training pixel, on a grid of step 0.005:")
    for name, value in argmins.items():
        print(f"    {name:<18} {value:.3f}")
    print(f"    the pixels' mean   {pixels.mean():.3f}")
    check(len(set(argmins.values())) == 1 and abs(argmins["MSE"] - pixels.mean()) <= 0.0025,
          "every sigma picks the same prediction as the MSE (sigma rescales the squared error and adds a "
          f"constant): {argmins['MSE']:.3f}, the mean")

    _common.section("Bernoulli: binarized test images, p = 0.05 + 0.9 * the mean training image")
    xb = (x > 0.5).astype(np.float64)
    p = np.broadcast_to(0.05 + 0.9 * mean_image, x.shape)
    logits = special.logit(p)
    nll_bern = -nv.bernoulli_log_prob(xb, logits)
    via_log_loss = d * log_loss(xb.ravel(), p.ravel())  # scikit-learn: averaged over every pixel
    via_scipy = -stats.bernoulli.logpmf(xb, p).sum(axis=1).mean()
    print(f"  mean over images of -log p(x | p)   = {nll_bern.mean():.10f} nats")
    print(f"  D * binary cross-entropy (log_loss) = {via_log_loss:.10f}")
    print(f"  scipy.stats.bernoulli               = {via_scipy:.10f}")
    check(abs(nll_bern.mean() - via_log_loss) < 1e-9 and abs(nll_bern.mean() - via_scipy) < 1e-9,
          f"-log Bernoulli(x | p) summed over pixels = D x cross-entropy: {nll_bern.mean():.6f} = "
          f"{via_log_loss:.6f}, |diff| = {abs(nll_bern.mean() - via_log_loss):.1e}")

    _common.section("grey targets: what the seed's binary cross-entropy does with y = 0.3")
    y_grey = np.full((grey.size - 2, 1), 0.3)
    p_grid = grey[1:-1, None]
    bce = -nv.bernoulli_log_prob(y_grey, special.logit(p_grid))
    best = p_grid[int(np.argmin(bce)), 0]
    entropy = -(0.3 * math.log(0.3) + 0.7 * math.log(0.7))
    print(f"  minimised at p = {best:.3f} with value {bce.min():.6f}; "
          f"the entropy of Bernoulli(0.3) is {entropy:.6f}")
    check(abs(best - 0.3) < 1e-9 and abs(bce.min() - entropy) < 1e-12,
          "for a grey target the cross-entropy is still minimised at p = y (the decoder learns the grey "
          f"level), but even a perfect prediction costs H(y) = {entropy:.4f} nats: it is not a normalised "
          "likelihood of grey images")

    _common.section("gradients: prediction minus target, for both")
    g_mean, _ = nv.gaussian_log_prob_grad(x, m, 0.0)
    g_logit = nv.bernoulli_log_prob_grad(xb, logits)
    err_g = np.max(np.abs(-g_mean - (m - x)))
    err_b = np.max(np.abs(-g_logit - (p - xb)))
    check(err_g == 0 and err_b < 1e-15,
          f"d(-log N)/dm = m - x (max diff {err_g:.0e}) and d(-log Bernoulli)/dlogit = p - x (max diff "
          f"{err_b:.0e}): the two losses push the prediction towards the target the same way")

    fig, (ax_g, ax_b) = plt.subplots(1, 2, figsize=(12, 4.3))
    mus = np.linspace(-1.5, 3, 200)[:, None]
    ax_g.plot(mus, -nv.gaussian_log_prob(np.full_like(mus, y), mus, 0.0), lw=4, alpha=0.4,
              label="-log N(y | mu, 1)")
    ax_g.plot(mus, (y - mus) ** 2 / 2 + 0.5 * math.log(2 * math.pi), "k--",
              label="(y - mu)^2 / 2 + log sqrt(2 pi)")
    ax_g.axvline(y, color="grey", lw=0.8)
    ax_g.set_xlabel("mu   (the model's prediction)")
    ax_g.set_ylabel("nats")
    ax_g.set_title(f"Gaussian, sigma = 1, y = {y}: squared error")
    ax_g.legend()
    for target in (1.0, 0.0, 0.3):
        ax_b.plot(p_grid, -nv.bernoulli_log_prob(np.full_like(p_grid, target), special.logit(p_grid)),
                  label=f"y = {target}")
    ax_b.set_ylim(0, 5)
    ax_b.set_xlabel("p   (the model's probability that the pixel is on)")
    ax_b.set_ylabel("nats")
    ax_b.set_title("Bernoulli: cross-entropy -[y log p + (1 - y) log(1 - p)]")
    ax_b.legend()
    _common.save_figure(fig, args.out / "06_likelihoods.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
