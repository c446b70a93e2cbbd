"""The standard figures of a trained model, written to one folder.

    reconstructions.png   test inputs above, their reconstructions below
    samples.png           decode(z) for z ~ p(z) = N(0, I)
    loss_curves.png       train and test -ELBO, reconstruction and KL per epoch
    latent.png            the test set's latent means coloured by label (for K > 2:
                          projected on their first two principal components; for
                          K = 1: z against the label)
    manifold.png          2-D latent only: the decoded grid over the seed's ranges
    manifold_cdf.png      2-D latent only: the grid through the inverse Gaussian CDF
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..plumbing import plots


def latent_codes(model, params, x: np.ndarray) -> np.ndarray:
    """Codes to scatter: the posterior means mu(x) (VAE) or the codes z(x) (autoencoder)."""
    out = model.encode(params, x)
    return out[0] if isinstance(out, tuple) else out


def write_all(model, params, test_set, history: Sequence[dict], folder, *, seed: int = 0,
              grid_size: int = 21, z1_range=(-10.0, 5.0), z2_range=(-5.0, 5.0)) -> list[Path]:
    """Write every figure of the model to ``folder``; return their paths.

    ``seed`` fixes the prior samples of samples.png; the manifold options apply when the
    latent is 2-D.
    """
    folder = Path(folder)
    shape = test_set.image_shape
    x = test_set.x.astype(params.flat.dtype, copy=False)
    paths = [
        plots.reconstructions(x[:10], model.reconstruct(params, x[:10]), shape,
                              folder / "reconstructions.png"),
        plots.image_grid(model.sample(params, 100, np.random.default_rng(seed)), shape,
                         folder / "samples.png", title="samples: decode(z), z ~ N(0, I)"),
    ]
    if history:
        paths.append(plots.loss_curves(history, folder / "loss_curves.png"))
    z = latent_codes(model, params, x)
    name = "latent means" if isinstance(model.encode(params, x[:1]), tuple) else "latent codes"
    if z.shape[1] == 2:
        paths.append(plots.latent_scatter(z, test_set.y, folder / "latent.png",
                                          title=f"{name} of the test set"))

        def decode(codes):
            return model.decode(params, codes)

        for path, inverse_cdf in ((folder / "manifold.png", False), (folder / "manifold_cdf.png", True)):
            paths.append(plots.manifold_grid(decode, shape, path, z1_range=z1_range, z2_range=z2_range,
                                             n=grid_size, inverse_cdf=inverse_cdf, dtype=x.dtype))
    elif z.shape[1] == 1:
        labels = test_set.y if test_set.y is not None else np.zeros(len(z))
        paths.append(plots.latent_scatter(np.column_stack([z[:, 0], labels]), test_set.y,
                                          folder / "latent.png", ylabel="class",
                                          title=f"{name} (1-D) of the test set by class"))
    else:
        pcs, explained = plots.principal_components(z)
        paths.append(plots.latent_scatter(
            pcs, test_set.y, folder / "latent.png",
            xlabel=f"principal component 1 of z ({explained[0]:.0%} of variance)",
            ylabel=f"principal component 2 of z ({explained[1]:.0%} of variance)",
            title=f"{name} ({z.shape[1]}-D) of the test set, first two principal components"))
    return paths
