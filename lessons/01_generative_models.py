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

Run:  python lessons/01_generative_models.py        (about 1 s)
Writes lessons/output/01_histograms.png: p_data, p_model before and after fitting and a
histogram of model samples; and the KL against the step.
"""

from __future__ import annotations

import sys

import _common
import matplotlib.pyplot as plt
import numpy as np

import numvae as nv

GROUPS = ("men with glasses", "women with black hair", "blond women", "not a face")
P_DATA = np.array([0.1, 0.3, 0.6, 0.0])  # the seed's picture: rare, common, most common, never
N_IMAGES = 1000
STEPS = 300
LR = 1.0  # plain gradient ascent; the mean log-likelihood's curvature is at most 1/2, so 1 is safe


def fit(samples: np.ndarray, steps: int):
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


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()

    _common.section("p_data: the data set's groups")
    samples = nv.sample_categorical(P_DATA, N_IMAGES, rng)
    p_hat = nv.categorical_mle(samples, len(GROUPS))
    for g, p, f in zip(GROUPS, P_DATA, p_hat, strict=True):
        print(f"  {g:<22} p_data = {p:.3f}   frequency in {N_IMAGES} images = {f:.3f}")

    _common.section("fitting p_model = softmax(theta) by maximum likelihood")
    path = fit(samples, STEPS)
    probs = np.array([nv.softmax(t) for t in path])
    mean_ll = np.array([nv.categorical_log_prob(samples, t).mean() for t in path])
    kl_hat = np.array([nv.kl_categorical(p_hat, p) for p in probs])
    kl_data = np.array([nv.kl_categorical(P_DATA, p) for p in probs])
    h_hat = nv.categorical_entropy(p_hat)
    print(f"  {'step':>5}  {'mean log p_model':>16}  {'KL(p_hat||p_model)':>18}  {'KL(p_data||p_model)':>19}")
    for step in (0, 1, 3, 10, 30, 100, STEPS):
        print(f"  {step:5d}  {mean_ll[step]:16.6f}  {kl_hat[step]:18.6f}  {kl_data[step]:19.6f}")

    identity_err = np.max(np.abs(mean_ll - (-h_hat - kl_hat)))
    check(identity_err < 1e-12,
          f"mean log-likelihood = -H(p_hat) - KL(p_hat || p_model) at all {STEPS + 1} steps "
          f"(H(p_hat) = {h_hat:.6f}; max |diff| = {identity_err:.1e}): maximising one minimises the other")
    check(np.all(np.diff(kl_hat) < 0),
          f"KL(p_hat || p_model) falls at every step: {kl_hat[0]:.4f} -> {kl_hat[-1]:.2e} nats")
    check(kl_data[-1] < kl_data[0] / 10,
          f"KL(p_data || p_model) shrinks as the model learns: {kl_data[0]:.4f} -> {kl_data[-1]:.4f} nats")
    gap = np.max(np.abs(probs[-1] - p_hat))
    check(gap < 0.01, f"the fitted p_model is the maximum-likelihood answer p_hat (the frequencies): "
                      f"max |p_model - p_hat| = {gap:.4f}")
    check(probs[-1, 3] < 0.01,
          f"p_model('not a face') = {probs[-1, 3]:.4f}, down from {probs[0, 3]:.2f}: the model learned "
          "that the data hold no such images (it approaches 0 only like 1/steps: its logit heads to -inf)")

    _common.section("sampling from p_model")
    generated = nv.sample_categorical(probs[-1], N_IMAGES, rng)
    freq = np.bincount(generated, minlength=len(GROUPS)) / N_IMAGES
    for g, p, f in zip(GROUPS, P_DATA, freq, strict=True):
        print(f"  {g:<22} p_data = {p:.3f}   share of {N_IMAGES} generated images = {f:.3f}")
    # two independent sets of N images each (data set, generated set): standard error sqrt(2 p (1-p) / N)
    se = np.sqrt(2 * P_DATA * (1 - P_DATA) / N_IMAGES)
    faces = P_DATA > 0
    z = np.abs(freq - P_DATA)[faces] / se[faces]
    check(np.all(z < 4), f"generated images fall into the face groups as the data do: "
                         f"largest deviation {z.max():.1f} standard errors")
    check(freq[3] < 0.01, f"{int(freq[3] * N_IMAGES)} of {N_IMAGES} generated images are not faces")

    _common.section("more data, a closer model")
    sizes = (100, 1000, 10000)
    kls = [nv.kl_categorical(P_DATA, nv.categorical_mle(nv.sample_categorical(P_DATA, n, rng), 4))
           for n in sizes]
    for n, kl in zip(sizes, kls, strict=True):
        print(f"  N = {n:6d} images: KL(p_data || p_hat) = {kl:.6f} nats")
    check(kls[-1] < kls[0], f"the maximum-likelihood model of 10000 images is closer to p_data than "
                            f"that of 100: {kls[-1]:.2e} < {kls[0]:.2e} nats (on average 1/N for 3 groups)")

    fig, (ax_bars, ax_kl) = plt.subplots(1, 2, figsize=(13, 4.2))
    width = 0.2
    pos = np.arange(len(GROUPS))
    for i, (label, values) in enumerate((("p_data", P_DATA), ("p_model before", probs[0]),
                                         ("p_model after", probs[-1]), ("samples of p_model", freq))):
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
    _common.save_figure(fig, args.out / "01_histograms.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
