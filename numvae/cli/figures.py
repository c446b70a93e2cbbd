"""The standard figures of a trained model, written to one folder.

    reconstructions.png   test inputs above, their reconstructions below
    samples.png           decode(z) for z ~ p(z); for a conditional VAE a row per label,
                          the same z down each column (one style across every class)
    loss_curves.png       train and test -ELBO, reconstruction and KL per epoch
    latent.png            the test set's latent means coloured by label (for K > 2:
                          projected on their first two principal components; for
                          K = 1: z against the label); with a mixture prior, also its
                          components' means and 2-sigma ellipses
    prior_components.png  mixture prior only: a row per component, codes drawn from it
                          (a conditional VAE: one code per row, decoded with every label)
    manifold.png          2-D latent only: the decoded grid over the seed's ranges
    manifold_cdf.png      2-D latent only: the grid through the inverse Gaussian CDF
                          (a conditional VAE: manifold_y<L>.png, manifold_cdf_y<L>.png,
                          one pair per label)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..plumbing import plots

SAMPLE_COLUMNS = 10


def conditional(model) -> bool:
    return getattr(model.config, "classes", 0) > 0


def mixture(model) -> bool:
    return getattr(model.config, "prior", "standard") == "mixture" and hasattr(model, "prior")


def prior_name(model) -> str:
    """How a figure title names p(z)."""
    if mixture(model):
        return f"p(z) (mixture of {model.config.components})"
    return "N(0, I)"


def _labels(y):
    return {} if y is None else {"y": y}


def latent_codes(model, params, x: np.ndarray, y=None) -> np.ndarray:
    """Codes to scatter: the posterior means mu(x) (mu(x, y) for a conditional VAE), or the
    codes z(x) of an autoencoder."""
    out = model.encode(params, x, **_labels(y))
    return out[0] if isinstance(out, tuple) else out


def label_rows(model, params, ncols: int, rng: np.random.Generator) -> np.ndarray:
    """A conditional VAE's grid: ncols codes z ~ p(z), each decoded with every label.

    Returns (C * ncols, D), row by row: row c holds label c, column j the code z_j.
    """
    classes = model.config.classes
    z = model.prior.sample(params, ncols, rng)  # (ncols, K)
    return model.decode(params, np.tile(z, (classes, 1)), np.repeat(np.arange(classes), ncols))


def component_rows(model, params, ncols: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A mixture prior's grid, a row per component c: (images, columns).

    Unconditional: ``ncols`` codes z ~ N(m_c, diag exp(s_c)) per row. Conditional: one such
    code per row, decoded with each label in turn (a column per label).
    """
    c, k = model.config.components, model.config.latent
    dtype = params.flat.dtype
    if conditional(model):
        per_row, classes = 1, model.config.classes
    else:
        per_row, classes = ncols, 0
    eps = rng.standard_normal((c, per_row, k)).astype(dtype)
    means, logvars = params["prior.means"][:, None, :], params["prior.logvars"][:, None, :]
    z = (means + np.exp(logvars / 2) * eps).reshape(c * per_row, k)  # (C * per_row, K)
    if not classes:
        return model.decode(params, z), per_row
    y = np.tile(np.arange(classes), c * per_row)
    return model.decode(params, np.repeat(z, classes, axis=0), y), classes


def write_all(model, params, test_set, history: Sequence[dict], folder, *, seed: int = 0,
              grid_size: int = 21, z1_range=(-10.0, 5.0), z2_range=(-5.0, 5.0)) -> list[Path]:
    """Write every figure of the model to ``folder``; return their paths.

    ``seed`` fixes the prior samples of samples.png (and prior_components.png); the
    manifold options apply when the latent is 2-D.
    """
    folder = Path(folder)
    shape = test_set.image_shape
    x = test_set.x.astype(params.flat.dtype, copy=False)
    y = test_set.y if conditional(model) else None
    first = None if y is None else y[:10]
    rng = np.random.default_rng(seed)
    if conditional(model):
        samples = label_rows(model, params, SAMPLE_COLUMNS, rng)
        samples_title = "samples: a row per label, the same z down each column"
    else:
        samples = model.sample(params, 100, rng)
        samples_title = f"samples: decode(z), z ~ {prior_name(model)}"
    paths = [
        plots.reconstructions(x[:10], model.reconstruct(params, x[:10], **_labels(first)), shape,
                              folder / "reconstructions.png"),
        plots.image_grid(samples, shape, folder / "samples.png", ncols=SAMPLE_COLUMNS, title=samples_title),
    ]
    if mixture(model):
        images, ncols = component_rows(model, params, SAMPLE_COLUMNS, rng)
        columns = "a column per label" if conditional(model) else "codes drawn from it"
        paths.append(plots.image_grid(images, shape, folder / "prior_components.png", ncols=ncols,
                                      title=f"a row per prior component 1..{model.config.components}, "
                                            f"{columns}"))
    if history:
        paths.append(plots.loss_curves(history, folder / "loss_curves.png"))
    paths.append(_latent_figure(model, params, x, y, test_set.y, folder / "latent.png"))
    if model.config.latent == 2:
        for label in range(model.config.classes) if conditional(model) else (None,):
            def decode(codes, label=label):
                return model.decode(params, codes, **_labels(None if label is None else
                                                             np.full(len(codes), label)))

            suffix = "" if label is None else f"_y{label}"
            for name, inverse_cdf in (("manifold", False), ("manifold_cdf", True)):
                paths.append(plots.manifold_grid(decode, shape, folder / f"{name}{suffix}.png",
                                                 z1_range=z1_range, z2_range=z2_range, n=grid_size,
                                                 inverse_cdf=inverse_cdf, dtype=x.dtype,
                                                 label=label))
    return paths


def _latent_figure(model, params, x, y, colours, path) -> Path:
    """latent.png: the codes of the test set, coloured by label, with the mixture's components."""
    z = latent_codes(model, params, x, y)
    name = "latent means" if isinstance(model.encode(params, x[:1], **_labels(None if y is None else y[:1])),
                                        tuple) else "latent codes"
    given = " given their labels" if y is not None else ""
    means = covariances = None
    if mixture(model):
        means = np.asarray(params["prior.means"], dtype=np.float64)  # (C, K)
        covariances = np.exp(np.asarray(params["prior.logvars"], dtype=np.float64))  # (C, K) diagonals
    with_prior = "\nand the prior's components: means, 2-sigma ellipses" if means is not None else ""
    if z.shape[1] == 2:
        return plots.latent_scatter(z, colours, path, title=f"{name} of the test set{given}{with_prior}",
                                    component_means=means,
                                    component_covariances=None if means is None else
                                    [np.diag(v) for v in covariances])
    if z.shape[1] == 1:
        labels = colours if colours is not None else np.zeros(len(z))
        return plots.latent_scatter(np.column_stack([z[:, 0], labels]), colours, path, ylabel="class",
                                    title=f"{name} (1-D) of the test set{given} by class")
    center, axes, explained = plots.principal_axes(z)
    projected_means = projected_covs = None
    if means is not None:  # the components seen through the same projection: A m, A diag(v) A^T
        projected_means = (means - center) @ axes.T
        projected_covs = [axes @ np.diag(v) @ axes.T for v in covariances]
    return plots.latent_scatter(
        (z - center) @ axes.T, colours, path,
        xlabel=f"principal component 1 of z ({explained[0]:.0%} of variance)",
        ylabel=f"principal component 2 of z ({explained[1]:.0%} of variance)",
        title=f"{name} ({z.shape[1]}-D) of the test set{given}, first two principal components{with_prior}",
        component_means=projected_means, component_covariances=projected_covs)
