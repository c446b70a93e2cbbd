# %%
"""Lesson 06: maximum likelihood turns into the familiar losses.

The seed's "Maximum Likelihood Estimation" section: training a model means making the
observed y as probable as possible under the distribution the model outputs, i.e.
minimising -log p(y | f_theta(x)). Which loss that is depends on the distribution:

  Gaussian, mean f(x), sigma = 1:  -log p = (y - f(x))^2 / 2 + log sqrt(2 pi)  -> squared error
  Bernoulli, p = f(x):             -log p = -[y log p + (1 - y) log(1 - p)]     -> cross-entropy

The lesson checks both numerically, constants included, on whole images (summed over
pixels, as the VAE's reconstruction term is) against independent implementations
(scikit-learn's mean_squared_error and log_loss, scipy's densities); shows that sigma only
rescales the squared error, so every sigma has the same best prediction; that both
gradients are "prediction minus target"; and what the seed's cross-entropy does with grey
pixels, which are not 0 or 1.

Shows: Gaussian sigma = 1 is MSE, Bernoulli is cross-entropy, constants included.
Run:  python lessons/06_maximum_likelihood.py     (about 5 s)
Writes lessons/output/06_likelihoods.png: -log N(y | mu, 1) against the squared error, and
-log Bernoulli(y | p) for y = 1, 0 and a grey 0.3.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy import special, stats
from sklearn.metrics import log_loss, mean_squared_error

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 06: maximum likelihood turns into the familiar losses
#
# The VAE's reconstruction term is $-\mathbb{E}_q[\log p(x_i \mid g_\theta(z))]$: a
# negative log-likelihood. The lecture's section on **maximum likelihood estimation**
# explains what that means. A model $f_\theta$ does not output $y$ itself but a
# probability distribution $p(y \mid f_\theta(x))$; the likelihood is the height of that
# distribution at the observed $y$, and learning moves $\theta$ (by gradient descent) so
# that the observed $y$ becomes as probable as possible. Maximising the likelihood is
# minimising the negative log-likelihood,
#
# $$-\log p(y_i \mid f_\theta(x_i)),$$
#
# and which familiar loss that is depends on the distribution: a Gaussian gives the
# squared error, a Bernoulli the cross-entropy.

# %%
Y, MU = 0.8, 0.3  # the univariate example: one target, one prediction

# %% [markdown]
# ## The Gaussian, univariate
#
# With $f_\theta(x_i) = \mu_i$ and $\sigma_i = 1$,
#
# $$\begin{aligned}
# p(y_i \mid \mu_i, \sigma_i) &= \frac{1}{\sqrt{2\pi}\,\sigma_i}
#   \exp\left(-\frac{(y_i - \mu_i)^2}{2\sigma_i^2}\right) \\
# -\log p(y_i \mid \mu_i) &= -\log \frac{1}{\sqrt{2\pi}} + \frac{(y_i - \mu_i)^2}{2}
#   \;\propto\; \frac{(y_i - f_\theta(x_i))^2}{2},
# \end{aligned}$$
#
# the squared error plus a constant, $\log \sqrt{2\pi}$.

# %%
def check_univariate(check) -> None:
    """-log N(y | mu, 1) = (y - mu)^2 / 2 + log sqrt(2 pi)."""
    _common.section("the seed's univariate example")
    nll = -nv.gaussian_log_prob(np.array([[Y]]), np.array([[MU]]), 0.0)[0]
    print(f"  y = {Y}, mu = {MU}:  -log N(y | mu, 1) = {nll:.6f}  =  log sqrt(2 pi) "
          f"{0.5 * math.log(2 * math.pi):.6f}  +  (y - mu)^2 / 2 {(Y - MU) ** 2 / 2:.6f}")
    check(abs(nll - (0.5 * math.log(2 * math.pi) + (Y - MU) ** 2 / 2)) < 1e-15,
          "-log N(y | mu, 1) = (y - mu)^2 / 2 + log sqrt(2 pi), exactly")


# %% [markdown]
# ## The Gaussian on whole images
#
# For an image of $D$ pixels with independent pixels, the log-likelihood sums over them
# (as the VAE's reconstruction term does), and the mean squared error averages:
#
# $$-\log \mathcal{N}(x \mid m, I) = \frac{D}{2}\,\mathrm{MSE}(x, m) + \frac{D}{2} \log 2\pi.$$
#
# Checked on the test digits, each predicted by the mean training image, against
# scikit-learn's `mean_squared_error` and scipy's normal density.

# %%
def check_gaussian(x: np.ndarray, mean_image: np.ndarray, check) -> None:
    """-log N(x | m, I) summed over pixels = D/2 MSE + D/2 log 2 pi, against sklearn and scipy."""
    n, d = x.shape
    _common.section(f"Gaussian, sigma = 1: {n} test images of {d} pixels, predicted by the mean "
                    "image")
    m = np.broadcast_to(mean_image, x.shape)  # (N, D)
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


# %% [markdown]
# A $\sigma$ other than 1 only rescales the squared error and shifts it by a constant,
# $-\log \mathcal{N}(y \mid \mu, \sigma^2) = \frac{(y - \mu)^2}{2\sigma^2} + \log \sigma
# + \log\sqrt{2\pi}$, so every $\sigma$ has the same best prediction as the MSE: the mean.

# %%
def check_sigma_scale(train, check) -> np.ndarray:
    """Every sigma picks the prediction the MSE picks; returns the grid of grey levels."""
    grey = np.linspace(0, 1, 201)  # (201,) candidate predictions: one grey level for every pixel
    pixels = train.x.astype(np.float64).reshape(1, -1)  # (1, N * D) every training pixel
    argmins = {}
    for sigma in (1.0, 0.1):
        cost = [-nv.gaussian_log_prob(pixels, np.full_like(pixels, c), 2 * math.log(sigma))[0]
                for c in grey]
        argmins[f"-log N, sigma = {sigma}"] = grey[int(np.argmin(cost))]
    mse_cost = [mean_squared_error(pixels[0], np.full(pixels.size, c)) for c in grey]
    argmins["MSE"] = grey[int(np.argmin(mse_cost))]
    print("  the best single grey level for every training pixel, on a grid of step 0.005:")
    for name, value in argmins.items():
        print(f"    {name:<18} {value:.3f}")
    print(f"    the pixels' mean   {pixels.mean():.3f}")
    check(len(set(argmins.values())) == 1 and abs(argmins["MSE"] - pixels.mean()) <= 0.0025,
          "every sigma picks the same prediction as the MSE (sigma rescales the squared error and "
          f"adds a constant): {argmins['MSE']:.3f}, the mean")
    return grey


# %% [markdown]
# ## The Bernoulli: cross-entropy
#
# For a binary pixel with $f_\theta(x_i) = p_i$,
#
# $$\begin{aligned}
# p(y_i \mid p_i) &= p_i^{y_i} (1 - p_i)^{1 - y_i} \\
# -\log p(y_i \mid p_i) &= -[y_i \log p_i + (1 - y_i) \log(1 - p_i)],
# \end{aligned}$$
#
# the binary cross-entropy. `numvae` takes the logit $\ln\frac{p}{1-p}$ rather than $p$
# (a log-probability from a logit never takes the log of 0). Summed over the $D$ pixels
# it is $D$ times scikit-learn's `log_loss`, which averages.

# %%
def check_bernoulli(x: np.ndarray, mean_image: np.ndarray, check) -> dict:
    """-log Bernoulli summed over pixels = D x cross-entropy, against sklearn and scipy."""
    d = x.shape[1]
    _common.section("Bernoulli: binarized test images, p = 0.05 + 0.9 * the mean training image")
    xb = (x > 0.5).astype(np.float64)  # (N, D) binarized test images
    p = np.broadcast_to(0.05 + 0.9 * mean_image, x.shape)  # (N, D) kept away from 0 and 1
    logits = special.logit(p)  # (N, D)
    nll_bern = -nv.bernoulli_log_prob(xb, logits)  # (N,) summed over pixels
    via_log_loss = d * log_loss(xb.ravel(), p.ravel())  # scikit-learn: averaged over every pixel
    via_scipy = -stats.bernoulli.logpmf(xb, p).sum(axis=1).mean()
    print(f"  mean over images of -log p(x | p)   = {nll_bern.mean():.10f} nats")
    print(f"  D * binary cross-entropy (log_loss) = {via_log_loss:.10f}")
    print(f"  scipy.stats.bernoulli               = {via_scipy:.10f}")
    check(abs(nll_bern.mean() - via_log_loss) < 1e-9 and abs(nll_bern.mean() - via_scipy) < 1e-9,
          f"-log Bernoulli(x | p) summed over pixels = D x cross-entropy: {nll_bern.mean():.6f} "
          f"= {via_log_loss:.6f}, |diff| = {abs(nll_bern.mean() - via_log_loss):.1e}")
    return {"xb": xb, "p": p, "logits": logits}


# %% [markdown]
# ## Grey targets
#
# The seed trains its VAE with binary cross-entropy on MNIST's grey levels, which are not
# 0 or 1. For a grey target $y = 0.3$ the cross-entropy is still minimised at $p = y$, so
# the decoder learns the grey level; but even a perfect prediction costs the entropy
# $H(y) = -[y \log y + (1-y)\log(1-y)] > 0$: it is not a normalised likelihood of grey
# images.

# %%
def check_grey_targets(grey: np.ndarray, check) -> None:
    """For y = 0.3 the cross-entropy is minimised at p = y, with value H(y), not 0."""
    _common.section("grey targets: what the seed's binary cross-entropy does with y = 0.3")
    y_grey = np.full((grey.size - 2, 1), 0.3)  # (199, 1)
    p_grid = grey[1:-1, None]  # (199, 1) predictions, 0 and 1 left out
    bce = -nv.bernoulli_log_prob(y_grey, special.logit(p_grid))  # (199,)
    best = p_grid[int(np.argmin(bce)), 0]
    entropy = -(0.3 * math.log(0.3) + 0.7 * math.log(0.7))
    print(f"  minimised at p = {best:.3f} with value {bce.min():.6f}; "
          f"the entropy of Bernoulli(0.3) is {entropy:.6f}")
    check(abs(best - 0.3) < 1e-9 and abs(bce.min() - entropy) < 1e-12,
          "for a grey target the cross-entropy is still minimised at p = y (the decoder learns "
          f"the grey level), but even a perfect prediction costs H(y) = {entropy:.4f} nats: it "
          "is not a normalised likelihood of grey images")


# %% [markdown]
# ## Gradients: prediction minus target
#
# Both losses push the prediction towards the target the same way:
#
# $$\frac{\partial}{\partial \mu}\left[-\log \mathcal{N}(y \mid \mu, 1)\right] = \mu - y,
#   \qquad \frac{\partial}{\partial\, \mathrm{logit}}\left[-\log
#   \mathrm{Bernoulli}(y \mid p)\right] = p - y.$$

# %%
def check_gradients(x: np.ndarray, mean_image: np.ndarray, bern: dict, check) -> None:
    """d(-log N)/dm = m - x and d(-log Bernoulli)/dlogit = p - x."""
    _common.section("gradients: prediction minus target, for both")
    m = np.broadcast_to(mean_image, x.shape)  # (N, D)
    g_mean, _ = nv.gaussian_log_prob_grad(x, m, 0.0)  # (N, D)
    g_logit = nv.bernoulli_log_prob_grad(bern["xb"], bern["logits"])  # (N, D)
    err_g = np.max(np.abs(-g_mean - (m - x)))
    err_b = np.max(np.abs(-g_logit - (bern["p"] - bern["xb"])))
    check(err_g == 0 and err_b < 1e-15,
          f"d(-log N)/dm = m - x (max diff {err_g:.0e}) and d(-log Bernoulli)/dlogit = p - x "
          f"(max diff {err_b:.0e}): the two losses push the prediction towards the target the "
          "same way")


# %% [markdown]
# ## The figure
#
# Left, $-\log \mathcal{N}(y \mid \mu, 1)$ and the shifted squared error, one curve on
# the other. Right, the cross-entropy against $p$ for $y = 1$, $y = 0$ and a grey
# $y = 0.3$, whose minimum is above 0.

# %%
def draw_figure(grey: np.ndarray, out) -> None:
    fig, (ax_g, ax_b) = plt.subplots(1, 2, figsize=(12, 4.3))
    mus = np.linspace(-1.5, 3, 200)[:, None]  # (200, 1)
    ax_g.plot(mus, -nv.gaussian_log_prob(np.full_like(mus, Y), mus, 0.0), lw=4, alpha=0.4,
              label="-log N(y | mu, 1)")
    ax_g.plot(mus, (Y - mus) ** 2 / 2 + 0.5 * math.log(2 * math.pi), "k--",
              label="(y - mu)^2 / 2 + log sqrt(2 pi)")
    ax_g.axvline(Y, color="grey", lw=0.8)
    ax_g.set_xlabel("mu   (the model's prediction)")
    ax_g.set_ylabel("nats")
    ax_g.set_title(f"Gaussian, sigma = 1, y = {Y}: squared error")
    ax_g.legend()
    p_grid = grey[1:-1, None]  # (199, 1)
    for target in (1.0, 0.0, 0.3):
        nll = -nv.bernoulli_log_prob(np.full_like(p_grid, target), special.logit(p_grid))  # (199,)
        ax_b.plot(p_grid, nll, label=f"y = {target}")
    ax_b.set_ylim(0, 5)
    ax_b.set_xlabel("p   (the model's probability that the pixel is on)")
    ax_b.set_ylabel("nats")
    ax_b.set_title("Bernoulli: cross-entropy -[y log p + (1 - y) log(1 - p)]")
    ax_b.legend()
    _common.save_figure(fig, out / "06_likelihoods.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    check = _common.Checks()
    train, test = _common.load_data(False)
    x = test.x.astype(np.float64)  # (N, D) grey levels in [0, 1]
    mean_image = train.x.mean(axis=0).astype(np.float64)  # (D,)
    check_univariate(check)
    check_gaussian(x, mean_image, check)
    grey = check_sigma_scale(train, check)
    bern = check_bernoulli(x, mean_image, check)
    check_grey_targets(grey, check)
    check_gradients(x, mean_image, bern, check)
    draw_figure(grey, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
