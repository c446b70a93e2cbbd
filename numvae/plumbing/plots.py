"""Figures: reconstructions, samples, latent scatter, manifold grid, loss curves.

matplotlib with the non-interactive Agg backend, so figures render without a screen.
Each function takes arrays, writes one PNG atomically and returns its path.

Image grids (samples, reconstructions, manifolds) are drawn pixel-exactly: the tiled
images are enlarged by a whole number ``scale`` and placed with ``figimage``, without
resampling, so every model pixel is a ``scale x scale`` block of the PNG and the PNG's
size follows from the grid (``grid_layout``). Scatter plots and loss curves have fixed
sizes (``SCATTER_SIZE``, ``CURVES_SIZE``, in inches at ``DPI``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .atomic import atomic_write  # noqa: E402

DPI = 100
MARGIN = 6  # px around a grid
TITLE_HEIGHT = 28  # px above a titled grid
AXIS_LEFT, AXIS_BOTTOM = 72, 44  # px for tick labels and axis names of a labelled grid
SCATTER_SIZE = (6.4, 5.2)
CURVES_SIZE = (13.0, 3.8)
TARGET_GRID_PX = 560  # images are enlarged until the grid's longer side is about this


def grey_png(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG file of ``pixels`` (H, W) uint8.

    The format's minimum: the signature, an IHDR chunk (size, 8 bits, colour type 0 =
    grey), one zlib-compressed IDAT chunk (each row prefixed by filter type 0, "none")
    and IEND; every chunk is length + type + data + CRC-32 of type and data.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ValueError(f"pixels must be a 2-D uint8 array, got {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape
    rows = np.hstack([np.zeros((height, 1), np.uint8), pixels]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def _save(fig, path) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically (never a half-written file).

    A figure that came out all grey (image grids with black text) is stored as a
    one-channel PNG, about a third of the size of matplotlib's RGBA one.
    """
    try:
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        r, g, b, alpha = np.moveaxis(rgba, -1, 0)
        if np.all(alpha == 255) and np.array_equal(r, g) and np.array_equal(r, b):
            return atomic_write(path, lambda f: f.write(grey_png(np.ascontiguousarray(r))))
        return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI))
    finally:
        plt.close(fig)


def tile_images(images: np.ndarray, image_shape: tuple[int, int], ncols: int,
                pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Arrange (n, H*W) images in a grid with ``ncols`` columns and ``pad`` grey pixels
    between tiles: (rows*(H+pad)-pad, ncols*(W+pad)-pad), filled row by row."""
    images = np.asarray(images)
    h, w = image_shape
    if images.ndim != 2 or images.shape[1] != h * w:
        raise ValueError(f"images must have shape (n, {h * w}) for image_shape {tuple(image_shape)}, "
                         f"got {images.shape}")
    if ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols}")
    n = images.shape[0]
    nrows = -(-n // ncols)
    tiles = np.full((nrows * ncols, h + pad, w + pad), pad_value, dtype=np.float64)
    tiles[:n, :h, :w] = images.reshape(n, h, w)
    grid = tiles.reshape(nrows, ncols, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(nrows * (h + pad), ncols * (w + pad))
    return grid[: grid.shape[0] - pad, : grid.shape[1] - pad]


class GridLayout(NamedTuple):
    """Where a grid of images sits in its PNG, in pixels (origin top-left)."""

    scale: int  # each grid pixel is a scale x scale block
    top: int
    left: int
    height: int  # of the whole PNG
    width: int


def grid_layout(grid_shape: tuple[int, int], scale: int | None = None, title: bool = False,
                labelled_axes: bool = False) -> GridLayout:
    """Pixel layout of a grid figure: the grid enlarged ``scale`` times plus margins.

    ``scale=None`` picks the whole number that brings the longer side near
    ``TARGET_GRID_PX`` (at least 1).
    """
    gh, gw = grid_shape
    scale = max(1, round(TARGET_GRID_PX / max(gh, gw))) if scale is None else int(scale)
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    top = TITLE_HEIGHT if title else MARGIN
    left = AXIS_LEFT if labelled_axes else MARGIN
    bottom = AXIS_BOTTOM if labelled_axes else MARGIN
    return GridLayout(scale, top, left, top + gh * scale + bottom, left + gw * scale + MARGIN)


def _grid_figure(grid: np.ndarray, layout: GridLayout, title: str | None):
    """A figure of exactly layout.width x layout.height pixels showing ``grid`` unresampled."""
    s = layout.scale
    fig = plt.figure(figsize=(layout.width / DPI, layout.height / DPI), dpi=DPI)
    pixels = np.repeat(np.repeat(grid, s, axis=0), s, axis=1)
    bottom = layout.height - layout.top - pixels.shape[0]
    fig.figimage(pixels, xo=layout.left, yo=bottom, cmap="gray", vmin=0, vmax=1, origin="upper")
    if title:
        fig.text(0.5, 1 - layout.top / 2 / layout.height, title, ha="center", va="center", fontsize=10)
    return fig


def image_grid(images, image_shape, path, ncols: int = 10, title: str | None = None,
               scale: int | None = None) -> Path:
    """Save (n, H*W) images with values in [0, 1] as one grey-level grid, row by row."""
    grid = tile_images(np.asarray(images), image_shape, ncols)
    layout = grid_layout(grid.shape, scale, title=bool(title))
    return _save(_grid_figure(grid, layout, title), path)


def reconstructions(x, x_rec, image_shape, path, n: int = 10, scale: int | None = None) -> Path:
    """Inputs in the top row, their reconstructions in the bottom row.  x, x_rec (N, H*W)."""
    if np.shape(x) != np.shape(x_rec):
        raise ValueError(f"x and x_rec must have the same shape, got {np.shape(x)} and {np.shape(x_rec)}")
    n = min(n, x.shape[0])
    return image_grid(np.concatenate([x[:n], x_rec[:n]]), image_shape, path, ncols=n,
                      title="inputs (top), reconstructions (bottom)", scale=scale)


def manifold_codes(n: int = 21, z1_range: Sequence[float] = (-10.0, 5.0),
                   z2_range: Sequence[float] = (-5.0, 5.0), inverse_cdf: bool = False):
    """The n x n codes a manifold figure decodes, row by row from the top.

    Linear grid: z1 evenly over ``z1_range`` (left to right) and z2 evenly over
    ``z2_range`` (top = high), the seed's figure. ``inverse_cdf=True``: u evenly on
    (0, 1) at the midpoints (i + 1/2)/n, mapped through the inverse standard normal CDF,
    z = Phi^-1(u) (Kingma & Welling's figure), so each tile covers equal prior mass.

    Returns (z (n*n, 2) float64, z1 values (n,), z2 values top to bottom (n,)).
    """
    from scipy.stats import norm

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    for name, r in (("z1_range", z1_range), ("z2_range", z2_range)):
        if len(r) != 2 or not r[0] < r[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(r)}")
    if inverse_cdf:
        z1 = norm.ppf((np.arange(n) + 0.5) / n)
        z2 = z1[::-1]
    else:
        z1 = np.linspace(z1_range[0], z1_range[1], n)
        z2 = np.linspace(z2_range[0], z2_range[1], n)[::-1]
    zz1, zz2 = np.meshgrid(z1, z2)
    return np.stack([zz1.ravel(), zz2.ravel()], axis=1), z1, z2


def manifold_grid(decode: Callable[[np.ndarray], np.ndarray], image_shape, path,
                  z1_range=(-10.0, 5.0), z2_range=(-5.0, 5.0), n: int = 21, inverse_cdf: bool = False,
                  dtype=np.float32, scale: int | None = None, label: int | None = None) -> Path:
    """Decode the n x n codes of ``manifold_codes`` and tile the images, axes labelled in z.

    ``decode`` maps codes (n*n, 2) of ``dtype`` to mean images (n*n, H*W) in [0, 1].
    ``label``: the class a conditional decoder was given, named in the title.
    """
    z, z1, z2 = manifold_codes(n, z1_range, z2_range, inverse_cdf)
    grid = tile_images(decode(z.astype(dtype)), image_shape, ncols=n)
    if inverse_cdf:
        title = f"decoded {n}x{n} grid, z = inverse normal CDF of an even grid on (0, 1)^2"
    else:
        title = (f"decoded {n}x{n} grid, z1 in [{z1_range[0]:g}, {z1_range[1]:g}], "
                 f"z2 in [{z2_range[0]:g}, {z2_range[1]:g}]")
    if label is not None:
        title = f"label {label}: {title}"
    layout = grid_layout(grid.shape, scale, title=True, labelled_axes=True)
    fig = _grid_figure(grid, layout, title)
    gh, gw = grid.shape
    ax = fig.add_axes((layout.left / layout.width, 1 - (layout.top + gh * layout.scale) / layout.height,
                       gw * layout.scale / layout.width, gh * layout.scale / layout.height))
    ax.set_xlim(0, gw)
    ax.set_ylim(gh, 0)
    ax.patch.set_alpha(0)  # the axes only carry ticks; the pixels come from figimage
    for spine in ax.spines.values():
        spine.set_visible(False)
    h, w = image_shape
    shown = np.unique(np.linspace(0, n - 1, 5).round().astype(int))  # five labelled tiles per axis
    ax.set_xticks(shown * (w + 1) + w / 2, [f"{v:.3g}" for v in z1[shown]])
    ax.set_yticks(shown * (h + 1) + h / 2, [f"{v:.3g}" for v in z2[shown]])
    ax.tick_params(labelsize=8)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    return _save(fig, path)


def principal_axes(z: np.ndarray, k: int = 2):
    """The first k principal axes of codes z (N, K).

    Returns (center (K,), axes (k, K) orthonormal rows, fraction of the variance each
    axis explains (k,)); a code's projection is (z - center) @ axes.T.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < k:
        raise ValueError(f"z must have shape (N, K) with K >= {k}, got {z.shape}")
    center = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - center, full_matrices=False)
    explained = s**2 / max(float(np.sum(s**2)), np.finfo(np.float64).tiny)
    return center, vt[:k], explained[:k]


def principal_components(z: np.ndarray, k: int = 2):
    """Project codes (N, K) on their first k principal components.

    Returns (projections (N, k), fraction of the variance each component explains (k,)).
    """
    center, axes, explained = principal_axes(z, k)
    return (np.asarray(z, dtype=np.float64) - center) @ axes.T, explained


def latent_scatter(z, labels, path, xlabel: str = "z1", ylabel: str = "z2",
                   title: str = "latent means of the test set", component_means=None,
                   component_covariances=None) -> Path:
    """Scatter 2-D codes (N, 2), coloured by integer label (0..9) when labels are given.

    ``component_means`` (C, 2) and ``component_covariances`` (C 2x2 matrices), when given,
    mark a mixture prior's components: a cross at each mean and the ellipse 2 standard
    deviations out, where the component's density has fallen to exp(-2) of its peak.
    """
    z = np.asarray(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must have shape (N, 2), got {z.shape}")
    if labels is not None and np.shape(labels) != (z.shape[0],):
        raise ValueError(f"labels must have shape ({z.shape[0]},), got {np.shape(labels)}")
    fig = plt.figure(figsize=SCATTER_SIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    size = 4 if z.shape[0] <= 2000 else 1.5
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=size, alpha=0.6, rasterized=True)
    else:
        sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=size, alpha=0.8,
                        vmin=-0.5, vmax=9.5, rasterized=True)
        fig.colorbar(sc, ax=ax, ticks=range(10), label="class")
    if component_means is not None:
        _draw_components(ax, np.asarray(component_means, dtype=np.float64), component_covariances)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _draw_components(ax, means: np.ndarray, covariances) -> None:
    """A black cross per mean (C, 2) and its 2-sigma ellipse (from each 2x2 covariance)."""
    from matplotlib.patches import Ellipse

    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"component_means must have shape (C, 2), got {means.shape}")
    covariances = [] if covariances is None else list(covariances)
    if covariances and len(covariances) != len(means):
        raise ValueError(f"component_covariances must hold {len(means)} 2x2 matrices, got {len(covariances)}")
    for mean, cov in zip(means, covariances or [None] * len(means), strict=True):
        if cov is not None:
            variances, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
            angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))  # of the larger axis
            width, height = 2 * 2 * np.sqrt(np.maximum(variances[::-1], 0))
            ax.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, edgecolor="black",
                                 linewidth=1, alpha=0.8))
    ax.scatter(means[:, 0], means[:, 1], marker="x", s=40, c="black", linewidths=1.5,
               label="prior components")
    ax.legend(loc="upper right", fontsize=8)


def loss_curves(history: Sequence[dict], path) -> Path:
    """Train and test -ELBO, reconstruction and KL per epoch, three panels.

    ``history``: records with 'epoch' and train_/test_ 'loss', 'recon', 'kl' (nats/image).
    """
    if not history:
        raise ValueError("history must hold at least one epoch record, got none")
    epochs = [r["epoch"] for r in history]
    fig, axes = plt.subplots(1, 3, figsize=CURVES_SIZE, dpi=DPI, layout="constrained")
    for ax, key, name in zip(axes, ("loss", "recon", "kl"), ("-ELBO", "reconstruction", "KL"),
                             strict=True):
        ax.plot(epochs, [r[f"train_{key}"] for r in history], "o-", ms=3, label="train")
        ax.plot(epochs, [r[f"test_{key}"] for r in history], "s-", ms=3, label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
        ax.set_title(name)
        ax.legend()
    return _save(fig, path)
