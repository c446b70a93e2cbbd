"""Figures: reconstructions, samples, latent scatter, manifold grid, loss curves.

matplotlib with the non-interactive Agg backend, so figures render without a screen.
Each function takes arrays, writes one PNG atomically and returns its path.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path) -> Path:
    """Write ``fig`` to ``path`` via a temporary file and a rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def tile_images(images: np.ndarray, image_shape: tuple[int, int], ncols: int,
                pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Arrange (n, H*W) images in a grid with ``ncols`` columns and ``pad`` grey pixels
    between tiles: (rows*(H+pad)-pad, ncols*(W+pad)-pad)."""
    h, w = image_shape
    n = images.shape[0]
    nrows = -(-n // ncols)
    tiles = np.full((nrows * ncols, h + pad, w + pad), pad_value, dtype=np.float64)
    tiles[:n, :h, :w] = np.asarray(images).reshape(n, h, w)
    grid = tiles.reshape(nrows, ncols, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(nrows * (h + pad), ncols * (w + pad))
    return grid[: grid.shape[0] - pad, : grid.shape[1] - pad]


def image_grid(images, image_shape, path, ncols: int = 10, title: str | None = None) -> Path:
    """Save (n, H*W) images in [0, 1] as one grey-level grid."""
    grid = tile_images(np.asarray(images), image_shape, ncols)
    fig, ax = plt.subplots(figsize=(ncols * 0.6 + 0.5, grid.shape[0] / grid.shape[1] * ncols * 0.6 + 0.6))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def reconstructions(x, x_rec, image_shape, path, n: int = 10) -> Path:
    """Inputs in the top row, their reconstructions in the bottom row."""
    n = min(n, x.shape[0])
    return image_grid(np.concatenate([x[:n], x_rec[:n]]), image_shape, path, ncols=n,
                      title="inputs (top) and reconstructions (bottom)")


def latent_scatter(z, labels, path, xlabel: str = "z1", ylabel: str = "z2",
                   title: str = "latent means of the test set") -> Path:
    """Scatter 2-D codes (N, 2), coloured by integer label when labels are given."""
    fig, ax = plt.subplots(figsize=(6, 5))
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=4, alpha=0.6)
    else:
        sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, alpha=0.8,
                        vmin=-0.5, vmax=9.5)
        fig.colorbar(sc, ax=ax, ticks=range(10), label="class")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def manifold_grid(decode, image_shape, path, z1_range=(-10.0, 5.0), z2_range=(-5.0, 5.0),
                  n: int = 21, inverse_cdf: bool = False, dtype=np.float32) -> Path:
    """Decode an n x n grid of 2-D codes and tile the images.

    Linear grid: z1 over ``z1_range`` (columns), z2 over ``z2_range`` (rows, top = high),
    the seed's figure. ``inverse_cdf=True``: a uniform grid on (0, 1)^2 mapped through
    the inverse Gaussian CDF (Kingma & Welling's figure), covering p(z) evenly.
    """
    from scipy.stats import norm

    if inverse_cdf:
        u = np.linspace(0.5 / n, 1 - 0.5 / n, n)
        z1 = z2 = norm.ppf(u)
        title = f"decoded {n}x{n} grid, z = Phi^-1(u), u uniform"
    else:
        z1, z2 = np.linspace(*z1_range, n), np.linspace(*z2_range, n)
        title = f"decoded {n}x{n} grid, z1 in {list(z1_range)}, z2 in {list(z2_range)}"
    zz1, zz2 = np.meshgrid(z1, z2[::-1])
    z = np.stack([zz1.ravel(), zz2.ravel()], axis=1).astype(dtype)
    return image_grid(decode(z), image_shape, path, ncols=n, title=title)


def loss_curves(history, path) -> Path:
    """Train and test -ELBO, reconstruction and KL per epoch, three panels."""
    epochs = [r["epoch"] for r in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, key, name in zip(axes, ("loss", "recon", "kl"), ("-ELBO", "reconstruction", "KL"),
                             strict=True):
        ax.plot(epochs, [r[f"train_{key}"] for r in history], "o-", label="train")
        ax.plot(epochs, [r[f"test_{key}"] for r in history], "s-", label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
        ax.set_title(name)
        ax.legend()
    return _save(fig, path)
