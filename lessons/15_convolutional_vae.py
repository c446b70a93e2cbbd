# %%
"""Lesson 15: the convolutional VAE, and a convolution as one matrix product over patches.

The lecture's VAE works on 32 x 32 MNIST with convolutions: two 3 x 3 convolutions of
stride 2 (32 and 64 filters) shrink the image to 64 maps of 8 x 8 before the heads, and two
transposed convolutions grow the code back to 32 x 32. This lesson takes the convolution
apart and then puts the network to work:

  * im2col copies every patch the kernel sees into one column, so that the whole layer is
    one matrix product; it equals the direct sum over the kernel to 1e-12;
  * the transposed convolution is the convolution's adjoint (its input-gradient run
    forward), and doubles the image's side;
  * the first convolution written as a dense matrix: mostly zeros, and its non-zeros are a
    few weights repeated at every position (weight sharing);
  * a convolutional VAE against an MLP VAE of about as many parameters, trained the same
    epochs on the same batches: test -ELBO, samples and the 2-D latent codes.

Measured with seed 0. On the 8x8 digits (16 and 32 channels, the heads reading the 128
features; 10469 parameters against an MLP of 64-76-2, 10404), 40 epochs: test -ELBO 24.90
(conv) and 25.10 nats (MLP), level. With --full, on MNIST zero-padded to 32x32 (the
lecture's 32x32-conv32-conv64-128-2, 1091269 parameters, against an MLP of 1024-530-2,
1090708), 5 epochs of batch 128: test -ELBO 153.22 (conv) and 158.17 nats (MLP), 4.96 nats
to the convolutions; 5-NN accuracy from the 2-D codes 66.6% and 61.6%. That run,
`NUMVAE_DATA_DIR=~/data nice -n 19 python lessons/15_convolutional_vae.py --full`, took
17 min on two shared cores: 983 s for the conv VAE's 5 epochs, 30 s for the MLP's.

Shows: a convolution as one matrix product over patches (im2col) equal to the direct sum;
       the convolutional VAE against an MLP VAE of about as many parameters.
Run:  python lessons/15_convolutional_vae.py            (about 10 s, 8x8 digits)
      python lessons/15_convolutional_vae.py --full     (MNIST padded to 32x32, about 20 min)
Writes lessons/output/15_im2col.png (a digit, its patches matrix, the convolution as a dense
matrix), 15_samples.png (z ~ N(0, I) decoded by each model), 15_latent.png (the test codes
of each) and 15_loss_curves.png (test -ELBO per epoch of each).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

import numvae as nv
from numvae.data import pad_dataset
from numvae.plumbing import lesson as _common
from numvae.plumbing import plots
from numvae.plumbing.runs import network_sizes

# %% [markdown]
# # Lesson 15: the convolutional VAE
#
# What deep learning calls a convolution slides a small kernel over the image and, at each
# position, sums the products of the kernel with the patch under it. With $C$ input
# channels, a $K \times K$ kernel, stride $s$ and $p$ zeros of padding on every side:
#
# $$\mathrm{out}[n, o, i, j] = b_o + \sum_{c, u, v} W[o, c, u, v]\,
#   x_{pad}[n, c, i s + u, j s + v], \qquad OH = \lfloor (H + 2p - K) / s \rfloor + 1$$
#
# Each output pixel is one filter (a row of $W$, flattened) times one patch (flattened).
# **im2col** copies every patch into one column of a matrix, $\mathrm{cols}$ of shape
# $(C K K, N \cdot OH \cdot OW)$, and the whole layer becomes a single matrix product,
# the operation computers do fastest:
#
# $$\mathrm{out} = W_{mat}\,\mathrm{cols} + b, \qquad W_{mat} = W.\mathrm{reshape}(C_{out}, C K K)$$

# %%
def direct_convolution(x, W, b, stride: int, padding: int) -> np.ndarray:
    """The sum above, one output pixel at a time.  x (N, C, H, W) -> (N, C_out, OH, OW)."""
    n, _, h, w = x.shape
    c_out, _, k, _ = W.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.empty((n, c_out, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            patch = x_pad[:, :, rows, cols]  # (N, C, K, K)
            out[:, :, i, j] = np.einsum("ncuv,ocuv->no", patch, W) + b
    return out


def check_im2col(rng: np.random.Generator, check) -> None:
    """im2col and one product equal the direct sum; the patches matrix's shapes."""
    _common.section("a convolution as one matrix product over patches")
    x = rng.standard_normal((2, 3, 7, 7))  # (N, C, H, W)
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)  # (C_out, C, K, K), (C_out,)
    cols = nv.im2col(x, 3, stride=2, padding=1)  # (C*K*K, N*OH*OW)
    rows = W.reshape(4, -1) @ cols + b[:, None]  # (C_out, N*OH*OW): one product
    product = rows.reshape(4, 2, 4, 4).transpose(1, 0, 2, 3)  # (N, C_out, OH, OW)
    direct = direct_convolution(x, W, b, stride=2, padding=1)
    print(f"  x {x.shape}, W {W.shape}, stride 2, padding 1: patches matrix {cols.shape} = "
          f"(C*K*K, N*OH*OW) = (3*3*3, 2*4*4); W_mat {W.reshape(4, -1).shape}")
    gap = np.abs(product - direct).max()
    library = np.abs(nv.conv2d_forward(x, W, b, 2, 1)[0] - direct).max()
    check(gap < 1e-12 and library < 1e-12,
          f"W_mat @ im2col(x) + b equals the direct sum over the kernel: max |difference| "
          f"{gap:.1e} (numvae's conv2d_forward: {library:.1e})")
    for name, shape, w_shape in (("conv 1 -> 32 on 32x32", (128, 1, 32, 32), (32, 1, 3, 3)),
                                 ("conv 32 -> 64 on 16x16", (128, 32, 16, 16), (64, 32, 3, 3))):
        out = nv.conv2d_output_shape(shape, w_shape, 2, 1)
        patches = (shape[1] * 9, shape[0] * out[2] * out[3])
        print(f"  the lecture's {name}, batch 128: patches matrix {patches}, "
              f"{nv.conv2d_multiply_adds(shape, w_shape, 2, 1) / 1e6:.0f} M multiply-adds")


# %% [markdown]
# ## The transposed convolution
#
# The decoder grows images back with the **transposed** convolution. It is the adjoint of
# the convolution with the same $W$: for every $x$ and $g$,
# $\langle \mathrm{conv}(x), g \rangle = \langle x, \mathrm{conv}^T(g) \rangle$, which
# makes it the convolution's input-gradient run forward (col2im of $W_{mat}^T g$). With
# stride 2, padding 1 and one extra row and column (output_padding 1) it exactly doubles
# the side: the decoder's $8 \times 8 \to 16 \times 16 \to 32 \times 32$.

# %%
def check_transpose(rng: np.random.Generator, check) -> None:
    """<conv(x), g> = <x, conv_transpose(g)>, and the transposed convolution doubles the side."""
    _common.section("the transposed convolution: the adjoint, doubling the side")
    x, W = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))  # W (4, 3, K, K)
    conv_x, _ = nv.conv2d_forward(x, W, np.zeros(4), 2, 1)  # (2, 4, 4, 4)
    g = rng.standard_normal(conv_x.shape)
    transposed, _ = nv.conv_transpose2d_forward(g, W, np.zeros(3), 2, 1, 1)  # (2, 3, 8, 8)
    left, right = np.sum(conv_x * g), np.sum(x * transposed)
    check(abs(left - right) < 1e-12 * abs(left),
          f"<conv(x), g> = {left:.12f} = <x, conv_transpose(g)> = {right:.12f}; "
          f"g {g.shape} -> {transposed.shape}")


# %% [markdown]
# ## Weight sharing: the convolution as a matrix
#
# A convolution is a linear map of the image, so it has a matrix: its column $k$ is the
# convolution of the $k$-th unit image. For the first layer on the $8 \times 8$ digits
# that matrix has one row per output value, and each row is zero except under its
# $3 \times 3$ patch, where the same 9 weights of its filter appear at every position.
# A dense layer with the same inputs and outputs would learn every entry.

# %%
def conv_as_matrix(W, b, image_shape, digits, check) -> np.ndarray:
    """The matrix M with conv(x) = M x + b (per output); checked on real digits."""
    _common.section("the first convolution as a dense matrix: weight sharing")
    h, w = image_shape
    units = np.eye(h * w).reshape(h * w, 1, h, w)  # every unit image, (H*W, 1, H, W)
    zero = np.zeros(W.shape[0])
    M = nv.conv2d_forward(units, W, zero, 2, 1)[0].reshape(h * w, -1).T  # (C1*OH*OW, H*W)
    x = digits[:50].astype(np.float64).reshape(50, 1, h, w)
    conv = nv.conv2d_forward(x, W, b, 2, 1)[0].reshape(50, -1)  # (50, C1*OH*OW)
    bias = np.repeat(b, M.shape[0] // len(b))  # b per channel, repeated at each position
    gap = np.abs(x.reshape(50, -1) @ M.T + bias - conv).max()
    check(gap < 1e-12, f"the convolution is the matrix M {M.shape}: |M x + b - conv(x)| <= "
                       f"{gap:.1e} on 50 digits")
    nonzero, distinct = np.count_nonzero(M), len(np.unique(M[M != 0]))
    print(f"  M holds {M.size} entries, {nonzero} of them non-zero ({nonzero / M.size:.0%}), "
          f"all copies of the {distinct} weights of W {W.shape}")
    print(f"  a dense layer with the same {M.shape[1]} inputs and {M.shape[0]} outputs learns "
          f"{M.size + M.shape[0]} parameters; the convolution {W.size + b.size}")
    return M


# %% [markdown]
# ## The convolutional VAE against the MLP VAE
#
# The lecture's network: conv 32, conv 64 (3x3, stride 2, ReLU), then the hidden layer and
# the two heads (mean and log-variance) of a 2-D $q(z|x)$; the decoder mirrors it with a
# dense layer to 64 maps of $8 \times 8$ and two transposed convolutions to $32 \times 32$
# logits. It meets an MLP VAE with one hidden layer sized for about as many parameters,
# both trained the same epochs from the same seed on the same batches. On the $8 \times 8$
# digits the network is smaller (16 and 32 channels, the heads reading the 128 features
# directly); with `--full` it is the lecture's, on MNIST padded to $32 \times 32$.

# %%
def model_configs(image_shape, full: bool) -> dict:
    """The two networks, of about the same number of parameters."""
    d = image_shape[0] * image_shape[1]
    conv = {"arch": "conv", "image_shape": image_shape,
            "conv_channels": (32, 64) if full else (16, 32), "hidden": (128,) if full else ()}
    conv_count = nv.VAE(nv.ModelConfig(input_dim=d, latent=2, **conv)).param_shapes()
    n_conv = sum(int(np.prod(s)) for s in conv_count.values())
    # an MLP with one hidden layer of H units and a 2-D latent: (2 D + 8) H + 4 + D parameters
    width = round((n_conv - 4 - d) / (2 * d + 8))
    return {"conv VAE": nv.ModelConfig(input_dim=d, latent=2, **conv),
            "MLP VAE": nv.ModelConfig(input_dim=d, latent=2, hidden=(width,))}


def train_both(configs: dict, train, test, seed: int, full: bool, check) -> dict:
    """Each model from the same seed, on the same batches; prints counts and times."""
    epochs, lr, batch = (5, 1e-3, 128) if full else (40, 3e-3, 64)
    _common.section(f"training both on {train.name} {train.image_shape[0]}x"
                    f"{train.image_shape[1]}: {epochs} epochs, batch {batch}, Adam {lr:g}")
    results = {}
    for name, config in configs.items():
        model = nv.VAE(config)
        params = model.init_params(np.random.default_rng(seed))
        with _common.stopwatch() as t:
            history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(lr),
                             epochs=epochs, rng=np.random.default_rng(seed + 1), batch_size=batch)
        results[name] = {"model": model, "params": params, "history": history,
                         "count": params.flat.size, "seconds": t[0]}
        last = history[-1]
        print(f"  {name}: {network_sizes(config)}, {params.flat.size} "
              f"parameters, test -ELBO {last['test_loss']:.3f} (rec {last['test_recon']:.3f} + "
              f"KL {last['test_kl']:.3f}), {t[0]:.1f} s")
    counts = [r["count"] for r in results.values()]
    check(max(counts) < 1.05 * min(counts),
          f"about as many parameters: {counts[0]} (conv VAE) and {counts[1]} (MLP VAE)")
    return results


# %% [markdown]
# ## What the numbers say
#
# On the $8 \times 8$ digits two stride-2 convolutions leave maps of $2 \times 2$: there is
# little for a shared filter to find at many positions, and the two networks end level. On
# $32 \times 32$ MNIST a stroke detector is useful at every one of the $16 \times 16$
# positions the first layer visits, and the convolutional VAE's shared filters pay off.

# %%
def encode_means(model, params, x, chunk: int = 1000) -> np.ndarray:
    """The means of q(z|x), (N, 2), a thousand images at a time (the patches matrices of
    60000 MNIST images at once would take gigabytes)."""
    return np.concatenate([model.encode(params, x[i:i + chunk])[0]
                           for i in range(0, len(x), chunk)])


def compare(results: dict, train, test, full: bool, check) -> None:
    """Test -ELBO and how well the 2-D codes separate the classes."""
    _common.section("test -ELBO and the latent codes")
    conv, mlp = (results[name]["history"][-1]["test_loss"] for name in ("conv VAE", "MLP VAE"))
    if full:
        check(conv < mlp - 2, f"on 32x32 MNIST the convolutional VAE's test -ELBO is lower: "
                              f"{conv:.2f} against the MLP VAE's {mlp:.2f} nats")
    else:
        check(abs(conv - mlp) < 1, f"on the 8x8 digits the two end level: test -ELBO "
                                   f"{conv:.2f} (conv VAE) and {mlp:.2f} (MLP VAE), "
                                   f"{abs(conv - mlp):.2f} nats apart")
    accuracy = {}
    for name, r in results.items():
        codes = {split: encode_means(r["model"], r["params"], data.x)
                 for split, data in (("train", train), ("test", test))}  # (N, 2) means
        r["codes"] = codes["test"]
        knn = KNeighborsClassifier(n_neighbors=5).fit(codes["train"], train.y)
        accuracy[name] = knn.score(codes["test"], test.y)
    check(min(accuracy.values()) > 0.5,
          "both 2-D latent spaces group the digits: 5-NN accuracy from the code "
          + ", ".join(f"{accuracy[n]:.1%} ({n})" for n in accuracy) + " (chance 10%)")


# %% [markdown]
# ## The figures
#
# A digit with the $3 \times 3$ window at one position, the digit's patches matrix (one
# column per position of the window) and the first convolution as a dense matrix; codes
# $z \sim \mathcal{N}(0, I)$ decoded by each model; the test set's codes of each model,
# coloured by digit; and the test -ELBO of each model per epoch.

# %%
def draw_im2col(M, digit, image_shape, out) -> None:
    h, w = image_shape
    x_pad = np.pad(digit.reshape(h, w), 1)  # (H + 2, W + 2): padding 1
    cols = nv.im2col(digit.reshape(1, 1, h, w).astype(np.float64), 3, 2, 1)  # (9, OH*OW)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), width_ratios=[1, 1.4, 2.2],
                             layout="constrained")
    at = h // 4 - 1  # output (at, at), near the middle; its window starts at row and column 2 at
    axes[0].imshow(x_pad, cmap="gray")
    axes[0].add_patch(plt.Rectangle((2 * at - 0.5, 2 * at - 0.5), 3, 3, fill=False, ec="red", lw=2))
    axes[0].set_title(f"a digit, padded by 1;\nthe window of output ({at}, {at})", fontsize=10)
    axes[1].imshow(cols, cmap="gray", aspect="auto", interpolation="nearest")
    column = at * (w // 2) + at  # output (i, j) is column i * OW + j
    axes[1].add_patch(plt.Rectangle((column - 0.5, -0.5), 1, 9, fill=False, ec="red", lw=2))
    axes[1].set_title(f"im2col: patches matrix {cols.shape},\none column per window position",
                      fontsize=10)
    axes[1].set_xlabel("window position")
    axes[1].set_ylabel("pixel in the window")
    per_channel = (h // 2) * (w // 2)  # OH * OW rows per filter
    limit = np.abs(M[:per_channel]).max()
    axes[2].imshow(M[:per_channel], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                   interpolation="nearest")
    axes[2].set_title(f"the first convolution as a matrix {M.shape}, its first filter's "
                      f"{per_channel} rows:\nthe same 9 weights at every position, zeros "
                      "elsewhere", fontsize=10)
    axes[2].set_xlabel("input pixel")
    axes[2].set_ylabel("output position")
    _common.save_figure(fig, out / "15_im2col.png")


def draw_results(results: dict, test, out) -> None:
    names = list(results)
    samples = [results[n]["model"].sample(results[n]["params"], 30, np.random.default_rng(7))
               for n in names]  # (30, D) each
    path = plots.image_grid(np.concatenate(samples), test.image_shape, out / "15_samples.png",
                            ncols=10,
                            title="z ~ N(0, I): conv VAE (top 3 rows), MLP VAE (bottom 3)")
    _common.announce(path)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharex=True, sharey=True)
    for ax, name in zip(axes, names, strict=True):
        codes = results[name]["codes"]  # (N_test, 2)
        sc = ax.scatter(codes[:, 0], codes[:, 1], c=test.y, cmap="tab10", s=4, vmin=-0.5,
                        vmax=9.5)
        ax.set_title(f"{name}: means of q(z|x), test set")
        ax.set_xlabel("z1")
    axes[0].set_ylabel("z2")
    fig.colorbar(sc, ax=axes, ticks=range(10), label="class")
    _common.save_figure(fig, out / "15_latent.png")
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        history = results[name]["history"]
        ax.plot([r["epoch"] for r in history], [r["test_loss"] for r in history], "o-", ms=3,
                label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test -ELBO (nats per image)")
    ax.legend()
    _common.save_figure(fig, out / "15_loss_curves.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv, full_help="MNIST zero-padded to 32x32 and the "
                                                       "lecture's network; hours on two cores")
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    check_im2col(rng, check)
    check_transpose(rng, check)
    train, test = _common.load_data(args.full)
    if train.image_shape == (28, 28):  # MNIST, padded to 32x32 as the lecture does
        train, test = pad_dataset(train, (32, 32)), pad_dataset(test, (32, 32))
    configs = model_configs(train.image_shape, train.name != "digits")
    results = train_both(configs, train, test, args.seed, train.name != "digits", check)
    first = results["conv VAE"]["params"]
    M = conv_as_matrix(first["enc.conv0.W"].astype(np.float64),
                       first["enc.conv0.b"].astype(np.float64), train.image_shape, test.x, check)
    compare(results, train, test, train.name != "digits", check)
    draw_im2col(M, test.x[0], train.image_shape, args.out)
    draw_results(results, test, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
