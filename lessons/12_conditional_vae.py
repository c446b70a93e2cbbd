# %%
"""Lesson 12: the conditional VAE: the label carries the class, the code carries the style.

A VAE trained on digits must put everything about an image into its code z, the class
included: the decoder has nothing else. The conditional VAE (Kingma et al. 2014; Sohn et
al. 2015) gives the label y to both networks,

    q(z | x, y) = N(mu(x, y), diag sigma^2(x, y)),    p(x | z, y),    p(z) = N(0, I),

(one_hot(y) appended to the encoder's and the decoder's inputs), and maximises the ELBO
of log p(x | y). The class now reaches the decoder for free, so z need not carry it, and
the KL term, which charges z for every nat it carries about x, stops paying for it.

The same network is trained twice on the 8x8 digits, as a VAE and as a CVAE (same
sizes, seed, optimiser and epochs), with a 2-D code.
The lesson checks, with numbers: the CVAE's KL is lower; the class can be read off the
VAE's codes (nearest-class-mean accuracy far above chance) but not off the CVAE's (near
chance); decoding one z under each label gives a digit of that label every time (a
classifier of real digits agrees); and z keeps its meaning across labels (re-encoding
the image decoded under another label gives back nearly the same z): z is the style.

Shows: the same z decoded under each label (style vs class); the KL and the class
       information in the codes, VAE against CVAE.
Run:  python lessons/12_conditional_vae.py     (about 8 s)
Writes lessons/output/12_same_z.png (test images on top, then their codes decoded under
each label, a row per label), 12_prior_z.png (z ~ N(0, I) decoded under each label, a row
per label) and 12_codes.png (test codes of the VAE and the CVAE, coloured by class).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestCentroid

import numvae as nv
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots

# %% [markdown]
# # Lesson 12: the conditional VAE
#
# The lecture's VAE models $p(x)$: every image, whatever its digit, comes from a code
# $z \sim \mathcal{N}(0, I)$ through one decoder. Often the data come with a label $y$
# (here the digit), and we want $p(x \mid y)$: "draw me a 3". The **conditional VAE**
# gives $y$ to both networks,
#
# $$q(z \mid x, y) = \mathcal{N}\big(z;\, \mu(x, y),\, \mathrm{diag}\, \sigma^2(x, y)\big),
# \qquad p(x \mid z, y), \qquad p(z) = \mathcal{N}(0, I),$$
#
# and lesson 04's argument, run with every density conditioned on $y$, gives its ELBO:
#
# $$\log p(x \mid y) \;\ge\; \mathbb{E}_{q(z|x,y)}\big[\log p(x \mid z, y)\big]
#   - \mathrm{KL}\big(q(z \mid x, y) \,\|\, p(z)\big).$$
#
# In numvae it is one choice of the configuration, `ModelConfig(classes=10)`: the
# one-hot label is appended to the encoder's input, $[x, \mathrm{onehot}(y)]$ (64 + 10
# numbers), and to the decoder's, $[z, \mathrm{onehot}(y)]$ (2 + 10). Everything else,
# the loss, its gradients, the training loop, is the VAE's.
#
# **What the KL term does.** Averaged over the data, the KL term bounds the information
# the code carries about the image: $I(x; z) \le \mathbb{E}_x\, \mathrm{KL}(q(z|x) \,\|\,
# p(z))$. The VAE's decoder learns the class only from $z$, so $z$ must carry it and
# the KL term charges for it (a class is worth up to $\log 10 = 2.30$ nats). The CVAE's
# decoder is handed the class, so $z$ need not carry it: the KL should fall, and the
# class should no longer be readable from $z$. What is left in $z$ is what the label does
# not say: the style (slant, thickness, size).

# %%
LATENT, HIDDEN, EPOCHS = 2, (128,), 100
CLASSES = 10
COLUMNS = 12  # test images in the figure, one column each


def train(data, classes: int, seed: int) -> dict:
    """The lesson's network as a VAE (classes = 0) or a CVAE (classes = 10); same seed."""
    train_set, test_set = data
    config = nv.ModelConfig(input_dim=train_set.x.shape[1], hidden=HIDDEN, latent=LATENT,
                            classes=classes)
    model = nv.CVAE(config) if classes else nv.VAE(config)
    rng = np.random.default_rng(seed)
    params = model.init_params(rng)
    labels = {"train_y": train_set.y, "test_y": test_set.y} if classes else {}
    with _common.stopwatch() as t:
        nv.fit(model, params, train_set.x, test_set.x, optimizer=nv.Adam(3e-3), epochs=EPOCHS,
               rng=rng, batch_size=64, **labels)
    return {"model": model, "params": params, "seconds": t[0], "classes": classes}


def labels(m: dict, dataset) -> np.ndarray | None:
    """The labels a model reads: the data set's for the CVAE, none for the VAE."""
    return dataset.y if m["classes"] else None


# %% [markdown]
# ## The VAE and the CVAE, trained the same way
#
# The 8x8 digits, a 2-D code, one hidden layer of 128 units, Adam, 100 epochs, the same
# seed for both. For each model: the test $-\mathrm{ELBO}$ (of $\log p(x)$ for the VAE,
# of $\log p(x \mid y)$ for the CVAE), its reconstruction term (one $z$ per image,
# averaged over 20 passes) and its KL term (in closed form, exact).

# %%
def train_both(data, seed: int) -> dict:
    """Train the VAE and the CVAE; print the test -ELBO, reconstruction and KL of each."""
    _common.section(f"a VAE and a CVAE on the digits: {LATENT}-D code, hidden {HIDDEN}, "
                    f"{EPOCHS} epochs, the same seed")
    models = {"VAE": train(data, 0, seed), "CVAE": train(data, CLASSES, seed)}
    test_set = data[1]
    rng = np.random.default_rng(seed + 1)
    print(f"  {'model':<5} {'test -ELBO':>10} {'reconstruction':>14} {'KL':>7}   (nats per image)")
    for name, m in models.items():
        y = labels(m, test_set)
        mu, logvar = m["model"].encode(m["params"], test_set.x, y)  # (N_test, 2) each
        recon = np.mean([nv.evaluate(m["model"], m["params"], test_set.x, rng, y=y)["recon"]
                         for _ in range(20)])
        m.update(mu=mu, kl=float(nv.kl_standard_normal(mu, logvar).mean()), recon=recon)
        print(f"  {name:<5} {recon + m['kl']:10.3f} {recon:14.3f} {m['kl']:7.3f}   "
              f"(trained in {m['seconds']:.1f} s)")
    return models


# %% [markdown]
# ## The KL term, once the label carries the class
#
# The CVAE's KL should be lower than the VAE's, and not at the price of its
# reconstructions: the decoder gets the class from $y$ and the rest from $z$.

# %%
def check_kl(models: dict, check) -> None:
    """The CVAE pays less KL than the VAE, and reconstructs no worse."""
    vae, cvae = models["VAE"], models["CVAE"]
    check(cvae["kl"] < vae["kl"] - 0.5,
          f"once the label carries the class, z carries less: test KL {vae['kl']:.3f} nats "
          f"(VAE) -> {cvae['kl']:.3f} (CVAE), {vae['kl'] - cvae['kl']:.3f} nats less "
          "(claimed: at least 0.5)")
    check(cvae["recon"] < vae["recon"],
          f"and the CVAE reconstructs better, not worse: {cvae['recon']:.3f} against "
          f"{vae['recon']:.3f} nats per image (the class comes with y)")


# %% [markdown]
# ## Is the class still in the code?
#
# Read the class off the test codes with the simplest classifier there is, the
# **nearest class mean**: the class means $\bar\mu_c$ of the training images' codes
# (the means of $q(z|x)$, or of $q(z|x, y)$ with each image's own label), and each test
# code assigned the class $\arg\min_c \|\mu(x) - \bar\mu_c\|$. Chance is 10% (14% for
# always answering the commonest test class). For the VAE it should be far above chance;
# for the CVAE near it.

# %%
def check_class_in_codes(models: dict, data, check) -> dict:
    """Nearest-class-mean accuracy on test codes: high for the VAE, near chance for the CVAE."""
    train_set, test_set = data
    accuracy = {}
    for name, m in models.items():
        train_mu, _ = m["model"].encode(m["params"], train_set.x, labels(m, train_set))  # (N, 2)
        centroid = NearestCentroid().fit(train_mu, train_set.y)
        accuracy[name] = float(centroid.score(m["mu"], test_set.y))
    commonest = np.bincount(test_set.y).max() / len(test_set.y)  # always answering it
    chance = f"chance: 10% guessing, {commonest:.1%} always answering the commonest class"
    check(accuracy["VAE"] > 0.6,
          f"the VAE's codes carry the class: nearest-class-mean accuracy on the test codes "
          f"{accuracy['VAE']:.1%} (claimed: above 60%; {chance})")
    check(accuracy["CVAE"] < 0.2,
          f"the CVAE's codes do not: {accuracy['CVAE']:.1%} (claimed: below 20%)")
    return accuracy


# %% [markdown]
# ## The same $z$ under every label
#
# Take the code $z = \mu(x, y)$ of a test image and decode it under each label
# $c = 0, \dots, 9$. If the label decides the class, a classifier of real digits
# (logistic regression on the training images) should read $c$ in the image decoded
# under label $c$, whatever image $z$ came from. If $z$ decides the style, the decoded
# image should keep $z$'s meaning under the new label: encoding it with that label
# should give back (nearly) the same $z$. For scale: the codes of two random test images
# lie some distance apart; the re-encoded codes should lie far closer to their $z$.

# %%
def check_same_z(models: dict, data, check) -> None:
    """Under label c the decoded image is a c; re-encoded under c it gives back z."""
    train_set, test_set = data
    cvae = models["CVAE"]
    model, params, z = cvae["model"], cvae["params"], cvae["mu"]  # z: (N_test, 2)
    classifier = LogisticRegression(max_iter=3000).fit(train_set.x, train_set.y)
    read, moved = [], []
    for c in range(CLASSES):
        label = np.full(len(z), c)  # (N_test,): every code decoded as a c
        images = model.decode(params, z, label)  # (N_test, 64)
        read.append(np.mean(classifier.predict(images) == c))
        z_again, _ = model.encode(params, images, label)  # (N_test, 2)
        moved.append(np.linalg.norm(z_again - z, axis=1).mean())
    pairs = np.random.default_rng(0).permutation(len(z))
    apart = np.linalg.norm(z - z[pairs], axis=1).mean()
    print("  classifier reads label c under label c: " + " ".join(f"{a:.0%}" for a in read))
    check(min(read) > 0.9,
          f"the label decides the class: every test code decoded under label c is read as a c "
          f"by a classifier of real digits, {min(read):.1%} for the worst label (claimed: "
          f"above 90%; the classifier scores {classifier.score(test_set.x, test_set.y):.1%} "
          "on real test images)")
    check(np.mean(moved) < apart / 2,
          f"z keeps its meaning under every label: re-encoded with its new label, a decoded "
          f"image gives back a code {np.mean(moved):.3f} from its z on average (worst label "
          f"{max(moved):.3f}), while two random test images' codes lie {apart:.3f} apart")


# %% [markdown]
# ## The figures
#
# Decoding the same $z$ under each label, a row per label: the test images' own codes,
# and codes drawn from the prior. Along a row the class is fixed and the style changes;
# down a column the style is fixed and the class changes. Then the 2-D test codes of both
# models, coloured by class: the VAE's fall into class regions, the CVAE's overlap.

# %%
def draw_figures(models: dict, data, out, seed: int) -> None:
    test_set = data[1]
    cvae = models["CVAE"]
    model, params = cvae["model"], cvae["params"]
    columns = np.array([np.flatnonzero(test_set.y == c % CLASSES)[c // CLASSES]
                        for c in range(COLUMNS)])  # a test image of each class, then two more
    prior_z = model.prior.sample(params, COLUMNS, np.random.default_rng(seed))  # (COLUMNS, 2)
    figures = [("12_same_z.png", cvae["mu"][columns], [test_set.x[columns]],
                "top row: test images; below: their codes decoded with labels 0 to 9"),
               ("12_prior_z.png", prior_z, [],
                "z ~ N(0, I), one per column, decoded with labels 0 to 9 (rows)")]
    for name, z, top, title in figures:  # z: (COLUMNS, 2)
        rows = [model.decode(params, z, np.full(COLUMNS, c)) for c in range(CLASSES)]
        images = np.concatenate(top + rows)  # (rows * COLUMNS, 64), a row per label
        plots.image_grid(images, test_set.image_shape, out / name, ncols=COLUMNS, title=title)
        _common.announce(out / name)

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    for ax, name in zip(axes, ("VAE", "CVAE"), strict=True):
        mu = models[name]["mu"]  # (N_test, 2)
        sc = ax.scatter(mu[:, 0], mu[:, 1], c=test_set.y, cmap="tab10", s=8, vmin=-0.5,
                        vmax=9.5)
        ax.set_title(f"{name}: means of q(z|x{', y' if name == 'CVAE' else ''}), test images")
        ax.set_xlabel("z1")
    axes[0].set_ylabel("z2")
    fig.colorbar(sc, ax=axes, ticks=range(CLASSES), label="class")
    _common.save_figure(fig, out / "12_codes.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    check = _common.Checks()
    data = _common.load_data(False)
    models = train_both(data, args.seed)
    check_kl(models, check)
    check_class_in_codes(models, data, check)
    check_same_z(models, data, check)
    draw_figures(models, data, args.out, args.seed)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
