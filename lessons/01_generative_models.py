# %%
"""Lesson 01: a generative model wants p_model(x) to match p_data(x).

The lecture note starts with a bar chart: in a data set of faces, few images are of men
with glasses, more of women with black hair, most of blond women, and none at all of
animals or landscapes. Those bars are p_data over groups of images. A generative model
is a second set of bars, p_model, and learning is moving them onto the first. Here the
groups are the whole story: p_model = softmax(theta) over the four groups, fitted by
maximum likelihood to 1000 images drawn from p_data. The lesson shows that

  * maximising the mean log-likelihood is minimising KL(p_hat || p_model) (p_hat: the
    data set's frequencies), checked as an identity at every step;
  * KL(p_data || p_model) shrinks as the model learns, and the model learns to give
    (almost) no probability to images that are not faces;
  * images sampled from the fitted model fall into the groups as the data do.

Shows: p_model fitted to p_data over the seed's groups by maximum likelihood;
       KL(p_data || p_model) shrinking.
Run:  python lessons/01_generative_models.py        (about 3 s)
Writes lessons/output/01_histograms.png: p_data, p_model before and after fitting and a
histogram of model samples; and the KL against the step.
"""

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 01: a generative model wants $p_{model}(x)$ to match $p_{data}(x)$
#
# A generative model makes plausible images: images like the ones in its training data.
# The lecture pictures the training data as a bar chart. The x-axis is groups of images,
# the y-axis the probability $p_{data}(x)$ that an image drawn from the data set falls in
# the group. In a data set of faces:
#
# | group | $p_{data}$ |
# | --- | --- |
# | $x_1$: men with glasses | small: the data set holds few of them |
# | $x_2$: women with black hair | larger |
# | $x_3$: blond women | the largest: most images are of them |
# | animals, objects, landscapes | $0$: not a face |
#
# The model's images have a distribution too, $p_{model}(x)$, and the goal is
# $p_{model}(x) \approx p_{data}(x)$: if one image in ten of the data is a man with
# glasses, one generated image in ten should be, and no generated image should be a
# landscape. Here the groups are the whole model, so the bars can be computed exactly.

# %%
GROUPS = ("men with glasses", "women with black hair", "blond women", "not a face")
P_DATA = np.array([0.1, 0.3, 0.6, 0.0])  # (4,) the seed's picture: rare, common, most, never
N_IMAGES = 1000
STEPS = 300
LR = 1.0  # plain gradient ascent; the mean log-likelihood's curvature is at most 1/2

# %% [markdown]
# ## $p_{data}$: the data set's groups
#
# A data set is $N$ images drawn from $p_{data}$. All a learner ever sees of $p_{data}$
# is their frequencies $\hat p(x) = \frac{1}{N} \sum_n [x_n = x]$, close to $p_{data}$
# but not equal to it.

# %%
def draw_data_set(rng: np.random.Generator):
    """N_IMAGES group labels from p_data and their frequencies p_hat."""
    _common.section("p_data: the data set's groups")
    samples = nv.sample_categorical(P_DATA, N_IMAGES, rng)  # (N,) group of each image
    p_hat = nv.categorical_mle(samples, len(GROUPS))  # (4,) frequencies
    for g, p, f in zip(GROUPS, P_DATA, p_hat, strict=True):
        print(f"  {g:<22} p_data = {p:.3f}   frequency in {N_IMAGES} images = {f:.3f}")
    return samples, p_hat


# %% [markdown]
# ## Fitting $p_{model}$ by maximum likelihood
#
# The model is one logit per group, $p_{model} = \mathrm{softmax}(\theta)$, and learning
# maximises the mean log-likelihood of the data set. Grouping the images by group shows
# what that does:
#
# $$\frac{1}{N} \sum_n \log p_{model}(x_n) = \sum_x \hat p(x) \log p_{model}(x)
#   = -H(\hat p) - \mathrm{KL}(\hat p \,\|\, p_{model}),$$
#
# and the entropy $H(\hat p)$ does not depend on $\theta$: maximising the likelihood is
# minimising $\mathrm{KL}(\hat p \,\|\, p_{model})$, pulling the model's bars onto the
# data's. Its gradient is $\hat p - \mathrm{softmax}(\theta)$, zero exactly when
# $p_{model} = \hat p$. A group the data never show gets a logit pushed towards
# $-\infty$: the model learns that no image is a landscape.

# %%
def fit(samples: np.ndarray, steps: int) -> np.ndarray:
    """Maximum likelihood by gradient ascent from theta = 0; returns theta per step (steps+1, K)."""
    params = nv.ParamDict.zeros({"theta": (len(GROUPS),)}, dtype=np.float64)
    grads = params.zeros_like()
    opt = nv.SGD(lr=LR)
    state = opt.init(params)
    path = [params["theta"].copy()]
    for _ in range(steps):
        # the optimiser minimises, so hand it the gradient of -1/N sum_n log p_model(s_n)
        grads["theta"][...] = -nv.categorical_log_prob_grad(samples, params["theta"]) / samples.size
        opt.step(params, grads, state)
        path.append(params["theta"].copy())
    return np.array(path)


def check_maximum_likelihood(samples: np.ndarray, p_hat: np.ndarray, check) -> dict:
    """Fit p_model; check the likelihood/KL identity and where the fit ends."""
    _common.section("fitting p_model = softmax(theta) by maximum likelihood")
    path = fit(samples, STEPS)  # (STEPS+1, 4) theta after each step
    probs = np.array([nv.softmax(t) for t in path])  # (STEPS+1, 4) p_model after each step
    mean_ll = np.array([nv.categorical_log_prob(samples, t).mean() for t in path])  # (STEPS+1,)
    kl_hat = np.array([nv.kl_categorical(p_hat, p) for p in probs])  # (STEPS+1,)
    kl_data = np.array([nv.kl_categorical(P_DATA, p) for p in probs])  # (STEPS+1,)
    h_hat = nv.categorical_entropy(p_hat)
    print(f"  {'step':>5}  {'mean log p_model':>16}  {'KL(p_hat||p_model)':>18}  "
          f"{'KL(p_data||p_model)':>19}")
    for step in (0, 1, 3, 10, 30, 100, STEPS):
        print(f"  {step:5d}  {mean_ll[step]:16.6f}  {kl_hat[step]:18.6f}  {kl_data[step]:19.6f}")

    identity_err = np.max(np.abs(mean_ll - (-h_hat - kl_hat)))
    check(identity_err < 1e-12,
          f"mean log-likelihood = -H(p_hat) - KL(p_hat || p_model) at all {STEPS + 1} steps "
          f"(H(p_hat) = {h_hat:.6f}; max |diff| = {identity_err:.1e}): maximising one "
          "minimises the other")
    check(np.all(np.diff(kl_hat) < 0),
          f"KL(p_hat || p_model) falls at every step: {kl_hat[0]:.4f} -> {kl_hat[-1]:.2e} nats")
    check(kl_data[-1] < kl_data[0] / 10,
          f"KL(p_data || p_model) shrinks as the model learns: {kl_data[0]:.4f} -> "
          f"{kl_data[-1]:.4f} nats")
    gap = np.max(np.abs(probs[-1] - p_hat))
    check(gap < 0.01, f"the fitted p_model is the maximum-likelihood answer p_hat (the "
                      f"frequencies): max |p_model - p_hat| = {gap:.4f}")
    check(probs[-1, 3] < 0.01,
          f"p_model('not a face') = {probs[-1, 3]:.4f}, down from {probs[0, 3]:.2f}: the model "
          "learned that the data hold no such images (it approaches 0 only like 1/steps: its "
          "logit heads to -inf)")
    return {"probs": probs, "kl_hat": kl_hat, "kl_data": kl_data}


# %% [markdown]
# ## Sampling from $p_{model}$
#
# Once trained, the model generates: it draws images from $p_{model}$. If
# $p_{model} \approx p_{data}$, the generated images fall into the groups in the data's
# proportions. A share $f$ of $N$ generated images, compared with the share in $N$ data
# images, differs by chance with standard error $\sqrt{2\,p(1-p)/N}$.

# %%
def check_sampling(probs: np.ndarray, rng: np.random.Generator, check) -> np.ndarray:
    """Draw N_IMAGES from the fitted model; check they fall into the groups as the data do."""
    _common.section("sampling from p_model")
    generated = nv.sample_categorical(probs[-1], N_IMAGES, rng)  # (N,)
    freq = np.bincount(generated, minlength=len(GROUPS)) / N_IMAGES  # (4,)
    for g, p, f in zip(GROUPS, P_DATA, freq, strict=True):
        print(f"  {g:<22} p_data = {p:.3f}   share of {N_IMAGES} generated images = {f:.3f}")
    # two independent sets of N images (data set, generated set): standard error
    # sqrt(2 p (1-p) / N)
    se = np.sqrt(2 * P_DATA * (1 - P_DATA) / N_IMAGES)  # (4,)
    faces = P_DATA > 0
    z = np.abs(freq - P_DATA)[faces] / se[faces]  # (3,) deviations in standard errors
    check(np.all(z < 4), f"generated images fall into the face groups as the data do: "
                         f"largest deviation {z.max():.1f} standard errors")
    check(freq[3] < 0.01,
          f"{int(freq[3] * N_IMAGES)} of {N_IMAGES} generated images are not faces")
    return freq


# %% [markdown]
# ## More data, a closer model
#
# The maximum-likelihood model is $\hat p$, so it is only as good as the data set is
# large: on average $\mathrm{KL}(p_{data} \,\|\, \hat p)$ falls like $1/N$ (for 3 groups).

# %%
def check_more_data(rng: np.random.Generator, check) -> None:
    """The maximum-likelihood model of a larger data set is closer to p_data."""
    _common.section("more data, a closer model")
    sizes = (100, 1000, 10000)
    kls = [nv.kl_categorical(P_DATA,
                             nv.categorical_mle(nv.sample_categorical(P_DATA, n, rng), 4))
           for n in sizes]
    for n, kl in zip(sizes, kls, strict=True):
        print(f"  N = {n:6d} images: KL(p_data || p_hat) = {kl:.6f} nats")
    check(kls[-1] < kls[0],
          f"the maximum-likelihood model of 10000 images is closer to p_data than that of 100: "
          f"{kls[-1]:.2e} < {kls[0]:.2e} nats (on average 1/N for 3 groups)")


# %% [markdown]
# ## The figure
#
# Left, the lecture's bar chart with the model's bars beside the data's; right, the two
# KL divergences against the gradient step.

# %%
def draw_figure(fit_result: dict, freq: np.ndarray, out) -> None:
    probs, kl_hat, kl_data = fit_result["probs"], fit_result["kl_hat"], fit_result["kl_data"]
    fig, (ax_bars, ax_kl) = plt.subplots(1, 2, figsize=(13, 4.2))
    width = 0.2
    pos = np.arange(len(GROUPS))  # (4,) one slot per group
    bars = (("p_data", P_DATA), ("p_model before", probs[0]), ("p_model after", probs[-1]),
            ("samples of p_model", freq))
    for i, (label, values) in enumerate(bars):
        ax_bars.bar(pos + (i - 1.5) * width, values, width, label=label)
    ax_bars.set_xticks(pos, GROUPS, rotation=12)
    ax_bars.set_ylabel("probability")
    ax_bars.set_title("p_data and p_model over groups of images")
    ax_bars.legend()
    ax_kl.semilogy(kl_data, label="KL(p_data || p_model)")
    ax_kl.semilogy(kl_hat, label="KL(p_hat || p_model)")
    ax_kl.set_xlabel("gradient step")
    ax_kl.set_ylabel("nats")
    ax_kl.set_title("maximum likelihood pulls p_model onto the data")
    ax_kl.legend()
    _common.save_figure(fig, out / "01_histograms.png")


# %% [markdown]
# ## Run the lesson
#
# `main()` runs the steps above in the lecture's order and reports every check.

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    samples, p_hat = draw_data_set(rng)
    fit_result = check_maximum_likelihood(samples, p_hat, check)
    freq = check_sampling(fit_result["probs"], rng, check)
    check_more_data(rng, check)
    draw_figure(fit_result, freq, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
