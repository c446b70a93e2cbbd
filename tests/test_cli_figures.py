"""Figures from numvae train, plot and sample: PNGs of the expected size showing the model's images.

Image grids are drawn pixel-exactly (``numvae.plumbing.plots.grid_layout``), so the test crops the
grid out of the PNG and compares it with the images the model produces, up to the PNG's
8-bit grey levels.
"""

import numpy as np
import pytest
from PIL import Image
from test_cli_train import run_cli

from numvae.cli import figures
from numvae.data import load_digits
from numvae.plumbing import plots
from numvae.plumbing.runs import load_run

GREY_LEVEL = 3 / 255  # 8-bit PNG and matplotlib's 256-entry colour table


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures") / "run"
    assert run_cli(["train", "--epochs", 3, "--hidden", 32, "--lr", 3e-3, "--out", folder, "--quiet"])[0] == 0
    return folder


def grey(path):
    return np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255


def assert_grid_shows(path, images, image_shape, ncols, title=True, labelled_axes=False, min_std=0.1):
    """The PNG has the layout's size and its grid area shows ``images`` tiled (not blank: their
    grid's standard deviation above ``min_std``)."""
    grid = plots.tile_images(images, image_shape, ncols)
    layout = plots.grid_layout(grid.shape, title=title, labelled_axes=labelled_axes)
    png = grey(path)
    assert png.shape == (layout.height, layout.width)
    s = layout.scale
    shown = png[layout.top:layout.top + grid.shape[0] * s, layout.left:layout.left + grid.shape[1] * s]
    expected = np.repeat(np.repeat(grid, s, axis=0), s, axis=1)
    assert np.max(np.abs(shown - expected)) <= GREY_LEVEL
    assert grid.std() > min_std  # and the images themselves are not blank


def test_train_writes_every_figure_showing_the_model(run_dir):
    model, ckpt = load_run(run_dir)
    test = load_digits("test")
    folder = run_dir / "figures"
    x = test.x[:10]
    assert_grid_shows(folder / "reconstructions.png",
                      np.concatenate([x, model.reconstruct(ckpt.params, x)]), (8, 8), ncols=10)
    assert_grid_shows(folder / "samples.png", model.sample(ckpt.params, 100, np.random.default_rng(0)),
                      (8, 8), ncols=10)
    for name, inverse_cdf in (("manifold", False), ("manifold_cdf", True)):
        z, _, _ = plots.manifold_codes(21, (-10, 5), (-5, 5), inverse_cdf=inverse_cdf)
        decoded = model.decode(ckpt.params, z.astype(np.float32))
        assert_grid_shows(folder / f"{name}.png", decoded, (8, 8), ncols=21, labelled_axes=True)
    for name, inches in (("latent", plots.SCATTER_SIZE), ("loss_curves", plots.CURVES_SIZE)):
        png = grey(folder / f"{name}.png")
        assert png.shape == (round(inches[1] * plots.DPI), round(inches[0] * plots.DPI))
        assert png.std() > 0.05, f"{name}.png looks blank"


def test_manifold_codes_follow_the_seed_and_kingma_welling():
    z, z1, z2 = plots.manifold_codes(21)
    assert z.shape == (441, 2)
    assert z1[0] == -10 and z1[-1] == 5 and z2[0] == 5 and z2[-1] == -5  # top row is high z2
    assert np.array_equal(z[:21, 1], np.full(21, 5.0)) and np.array_equal(z[:21, 0], z1)
    z, z1, _ = plots.manifold_codes(5, inverse_cdf=True)
    from scipy.stats import norm
    np.testing.assert_allclose(norm.cdf(z1), [0.1, 0.3, 0.5, 0.7, 0.9], atol=1e-12)
    with pytest.raises(ValueError, match=r"z1_range must be \(low, high\) with low < high"):
        plots.manifold_codes(5, z1_range=(3, -3))


def test_plot_regenerates_the_same_figures_and_takes_other_ranges(run_dir, tmp_path):
    out = tmp_path / "figs"
    code, text, _ = run_cli(["plot", run_dir, "--out", out])
    assert code == 0 and text.count("wrote ") == 6
    for path in sorted((run_dir / "figures").glob("*.png")):
        assert np.array_equal(grey(path), grey(out / path.name)), path.name
    code, _, _ = run_cli(["plot", run_dir, "--out", out, "--grid-size", 7, "--z1-range", -2, 2,
                          "--z2-range", -1, 3])
    assert code == 0
    model, ckpt = load_run(run_dir)
    z, _, _ = plots.manifold_codes(7, (-2, 2), (-1, 3))
    assert_grid_shows(out / "manifold.png", model.decode(ckpt.params, z.astype(np.float32)), (8, 8), ncols=7,
                      labelled_axes=True)


def test_sample_writes_the_requested_grid(run_dir, tmp_path):
    code, text, _ = run_cli(["sample", run_dir, "--n", 12, "--ncols", 4, "--seed", 3,
                             "--out", tmp_path / "s.png"])
    assert code == 0 and "wrote" in text
    model, ckpt = load_run(run_dir)
    assert_grid_shows(tmp_path / "s.png", model.sample(ckpt.params, 12, np.random.default_rng(3)), (8, 8),
                      ncols=4)
    assert run_cli(["sample", run_dir])[0] == 0
    assert (run_dir / "figures" / "samples_seed0.png").is_file()


def test_a_latent_above_two_is_scattered_on_principal_components(tmp_path, monkeypatch):
    folder = tmp_path / "k4"
    code, _, _ = run_cli(["train", "--epochs", 1, "--latent", 4, "--hidden", 16, "--out", folder, "--quiet"])
    assert code == 0
    names = sorted(p.name for p in (folder / "figures").glob("*.png"))
    assert names == ["latent.png", "loss_curves.png", "reconstructions.png", "samples.png"]
    calls = []
    monkeypatch.setattr(figures.plots, "latent_scatter", lambda z, labels, path, **kw: calls.append((z, kw)))
    model, ckpt = load_run(folder)
    figures.write_all(model, ckpt.params, load_digits("test"), ckpt.history, tmp_path / "again")
    (z, labels), = calls
    assert z.shape == (297, 2)
    assert labels["xlabel"].startswith("principal component 1 of z (")
    assert labels["ylabel"].startswith("principal component 2 of z (")
    assert "4-D" in labels["title"]


def test_principal_components_order_and_explained_variance(rng):
    z = rng.standard_normal((500, 3)) * np.array([5.0, 0.1, 1.0])
    pcs, explained = plots.principal_components(z)
    assert pcs.shape == (500, 2)
    assert explained[0] > 0.9 and explained[0] > explained[1] > 0.03
    np.testing.assert_allclose(np.abs(np.corrcoef(pcs[:, 0], z[:, 0])[0, 1]), 1, atol=1e-3)
    with pytest.raises(ValueError, match=r"z must have shape \(N, K\) with K >= 2"):
        plots.principal_components(z[:, :1])


def test_grey_png_is_a_valid_one_channel_png(rng, tmp_path):
    pixels = rng.integers(0, 256, size=(7, 13), dtype=np.uint8)
    path = tmp_path / "g.png"
    path.write_bytes(plots.grey_png(pixels))
    with Image.open(path) as img:
        assert img.mode == "L" and img.size == (13, 7)
        assert np.array_equal(np.asarray(img), pixels)
    with pytest.raises(ValueError, match="pixels must be a 2-D uint8 array"):
        plots.grey_png(pixels.astype(np.float32))


def test_grids_are_stored_grey_and_colour_figures_in_colour(run_dir):
    expected = {"reconstructions": "L", "samples": "L", "manifold": "L", "manifold_cdf": "L",
                "latent": "RGBA", "loss_curves": "RGBA"}
    assert {name: Image.open(run_dir / "figures" / f"{name}.png").mode for name in expected} == expected

