"""The standard figures of a trained model, written to one folder."""

from __future__ import annotations

import numpy as np

from .. import plots


def latent_codes(model, params, x):
    """Codes to scatter: the posterior means (VAE) or the codes (autoencoder)."""
    out = model.encode(params, x)
    return out[0] if isinstance(out, tuple) else out


def write_all(model, params, test_set, history, folder, seed: int = 0) -> list:
    """Reconstructions, samples, loss curves, and the latent scatter and manifold grids."""
    shape = test_set.image_shape
    x = test_set.x.astype(params.flat.dtype)
    paths = [
        plots.reconstructions(x, model.reconstruct(params, x[:10]), shape,
                              folder / "reconstructions.png"),
        plots.image_grid(model.sample(params, 100, np.random.default_rng(seed)), shape,
                         folder / "samples.png", title="samples: decode(z), z ~ N(0, I)"),
    ]
    if history:
        paths.append(plots.loss_curves(history, folder / "loss_curves.png"))
    z = latent_codes(model, params, x)
    if z.shape[1] == 2:
        paths.append(plots.latent_scatter(z, test_set.y, folder / "latent.png"))
        decode = lambda zz: model.decode(params, zz)  # noqa: E731
        paths.append(plots.manifold_grid(decode, shape, folder / "manifold.png"))
        paths.append(plots.manifold_grid(decode, shape, folder / "manifold_cdf.png", inverse_cdf=True))
    else:
        zc = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(zc, full_matrices=False)
        pcs = zc @ vt[:2].T
        paths.append(plots.latent_scatter(pcs, test_set.y, folder / "latent.png",
                                          xlabel="principal component 1 of z",
                                          ylabel="principal component 2 of z",
                                          title=f"latent means ({z.shape[1]}-D) projected on 2 PCs"))
    return paths
