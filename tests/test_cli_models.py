"""The next chapter's models from the command line (issue 16): the conditional VAE, the
importance-weighted objective, the learned mixture prior and the hidden activation, through
train, sample, evaluate, plot, gradcheck and explore; resumed bit for bit; and run folders
written before these choices existed."""

import json
import re

import numpy as np
import pytest
from test_cli_figures import assert_grid_shows
from test_cli_train import assert_same_run, run_cli

from numvae.cli import figures
from numvae.data import load_digits
from numvae.iwae import importance_estimates
from numvae.plumbing import plots
from numvae.plumbing.checkpoint import load_checkpoint
from numvae.plumbing.runs import load_run
from numvae.train import evaluate


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory):
    """A conditional VAE with a 2-D latent, trained long enough for its labels to show."""
    folder = tmp_path_factory.mktemp("cvae") / "run"
    code, out, err = run_cli(["train", "--model", "cvae", "--epochs", 15, "--hidden", 64, "--lr", 3e-3,
                              "--out", folder, "--quiet", "--grid-size", 3])
    assert code == 0, err
    return folder, out


@pytest.fixture(scope="module")
def mixture_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixture") / "run"
    code, _, err = run_cli(["train", "--prior", "mixture", "--components", 4, "--epochs", 3, "--hidden", 16,
                            "--out", folder, "--quiet", "--grid-size", 3])
    assert code == 0, err
    return folder


def test_cvae_trains_on_labelled_digits_and_writes_a_figure_set_per_label(cvae_run):
    folder, out = cvae_run
    assert "CVAE 64-64-2 (bernoulli, logvar head, 10 classes) on digits" in out
    config = json.loads((folder / "config.json").read_text())
    assert config["model"] == "cvae" and config["classes"] == 10
    names = {p.name for p in (folder / "figures").glob("*.png") if not p.name.startswith("samples_")}
    per_label = {f"manifold{kind}_y{c}.png" for kind in ("", "_cdf") for c in range(10)}
    assert names == {"reconstructions.png", "samples.png", "loss_curves.png", "latent.png"} | per_label
    model, ckpt = load_run(folder)
    # samples.png: a row per label, the same z ~ p(z) down each column
    rng = np.random.default_rng(config["seed"])
    z = model.prior.sample(ckpt.params, 10, rng)
    grid = figures.label_rows(model, ckpt.params, 10, np.random.default_rng(config["seed"]))
    for c in (0, 4, 9):  # (decoded in one batch or ten: float32 sums may differ in the last bit)
        np.testing.assert_allclose(grid[10 * c:10 * (c + 1)], model.decode(ckpt.params, z, np.full(10, c)),
                                   atol=1e-6, rtol=0)
    assert_grid_shows(folder / "figures" / "samples.png", grid, (8, 8), ncols=10)
    # each label's manifold decodes the grid with that label
    codes, _, _ = plots.manifold_codes(3, (-10, 5), (-5, 5))
    sevens = model.decode(ckpt.params, codes.astype(np.float32), np.full(9, 7))
    assert_grid_shows(folder / "figures" / "manifold_y7.png", sevens, (8, 8), ncols=3, labelled_axes=True)


def test_sample_label_draws_that_digit(cvae_run, tmp_path):
    folder, _ = cvae_run
    code, text, err = run_cli(["sample", folder, "--label", 7, "--n", 16, "--out", tmp_path / "sevens.png"])
    assert code == 0, err
    model, ckpt = load_run(folder)
    sevens = model.sample(ckpt.params, 16, np.random.default_rng(0), y=np.full(16, 7))
    assert_grid_shows(tmp_path / "sevens.png", sevens, (8, 8), ncols=10)
    # and they look like that digit: nearest to the mean training image of their own label
    train = load_digits("train")
    means = np.stack([train.x[train.y == c].mean(axis=0) for c in range(10)])  # (10, 64)
    rng = np.random.default_rng(1)
    right = 0
    for c in range(10):
        drawn = model.sample(ckpt.params, 30, rng, y=np.full(30, c))
        nearest = np.argmin(((drawn[:, None, :] - means[None]) ** 2).sum(axis=-1), axis=1)
        right += int(np.sum(nearest == c))
    assert right / 300 > 0.9
    # without --label: a row per label
    code, _, _ = run_cli(["sample", folder, "--ncols", 4, "--seed", 2, "--out", tmp_path / "rows.png"])
    assert code == 0
    rows = figures.label_rows(model, ckpt.params, 4, np.random.default_rng(2))
    assert_grid_shows(tmp_path / "rows.png", rows, (8, 8), ncols=4)
    code, text, _ = run_cli(["sample", folder, "--label", 3, "--n", 4])
    assert code == 0 and (folder / "figures" / "samples_label3_seed0.png").is_file()


def test_evaluate_conditions_log_px_on_each_images_label(cvae_run):
    folder, _ = cvae_run
    code, out, err = run_cli(["evaluate", folder, "--k", 20, "--n", 100, "--quiet"])
    assert code == 0, err
    printed = float(re.search(r"log p\(x \| y\) >= L_k\s+(-?\d+\.\d+)", out).group(1))
    model, ckpt = load_run(folder)
    test = load_digits("test")
    x, y = test.x[:100], test.y[:100]
    rng = np.random.default_rng(0)
    evaluate(model, ckpt.params, x, rng, y=y)  # the command's ELBO line draws first
    _, log_px = importance_estimates(model, ckpt.params, x, 20, rng, y=y)
    assert printed == pytest.approx(log_px.mean(), abs=1e-3)
    # the label is used: the wrong labels make the images much less likely
    _, wrong = importance_estimates(model, ckpt.params, x, 20, np.random.default_rng(0), y=(y + 1) % 10)
    assert wrong.mean() < log_px.mean() - 5


def test_explore_gives_a_conditional_run_a_label_selector(cvae_run, tmp_path):
    folder, _ = cvae_run
    code, _, err = run_cli(["explore", folder, "--out", tmp_path / "page.html"])
    assert code == 0, err
    page = (tmp_path / "page.html").read_text()
    assert '"classes": 10' in page and 'id="label"' in page
    assert "10 classes, one-hot on the encoder" in page


@pytest.mark.parametrize("options, extra_parameter", [
    (["--model", "cvae"], None),
    (["--objective", "iwae", "--k", "3"], None),
    (["--prior", "mixture", "--components", "3"], "prior.means"),
    (["--activation", "elu"], None),
    (["--activation", "tanh", "--model", "cvae", "--prior", "mixture", "--components", "2",
      "--objective", "iwae", "--k", "2"], "prior.logits"),
], ids=["cvae", "iwae", "mixture", "elu", "all-four"])
def test_gradcheck_checks_every_axis(options, extra_parameter):
    code, out, _ = run_cli(["gradcheck", "--hidden", "6", "--batch-size", "5", *options])
    assert code == 0, out
    names = [line.split()[0] for line in out.splitlines() if line.endswith(" ok")]
    assert names[0] == "enc.0.W" and f"all {len(names)} parameters agree" in out
    if extra_parameter:
        assert extra_parameter in names
    if "cvae" in options:
        assert "10 classes" in out.splitlines()[0]


def test_every_axis_at_once_resumes_bit_for_bit(tmp_path):
    every = ["--model", "cvae", "--prior", "mixture", "--components", 3, "--objective", "iwae", "--k", 3,
             "--activation", "elu", "--hidden", 8, "--latent", 3, "--batch-size", 100, "--quiet"]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert run_cli(["train", "--epochs", 2, "--out", whole, *every])[0] == 0
    assert run_cli(["train", "--epochs", 1, "--out", parts, *every])[0] == 0
    code, out, err = run_cli(["train", "--resume", parts, "--epochs", 2, "--quiet"])
    assert code == 0, err
    assert "resuming after epoch 1 of 2" in out
    assert_same_run(parts, whole)
    assert load_checkpoint(whole / "checkpoint.npz").config["objective"] == "iwae"
    # a conditional mixture model's figures: components per row, a column per label
    names = {p.name for p in (whole / "figures").glob("*.png")}
    assert {"prior_components.png", "samples.png", "latent.png"} <= names


def test_mixture_figures_mark_the_components_and_draw_from_each(mixture_run, tmp_path, monkeypatch):
    folder = mixture_run
    model, ckpt = load_run(folder)
    seed = ckpt.config["seed"]
    rng = np.random.default_rng(seed)
    samples = model.sample(ckpt.params, 100, rng)
    assert_grid_shows(folder / "figures" / "samples.png", samples, (8, 8), ncols=10)
    per_component, ncols = figures.component_rows(model, ckpt.params, 10, rng)
    assert per_component.shape == (40, 64) and ncols == 10
    assert_grid_shows(folder / "figures" / "prior_components.png", per_component, (8, 8), ncols=10)

    calls = []
    monkeypatch.setattr(figures.plots, "latent_scatter", lambda z, labels, path, **kw: calls.append(kw))
    test = load_digits("test")
    figures.write_all(model, ckpt.params, test, ckpt.history, tmp_path / "again", grid_size=3)
    kw, = calls
    np.testing.assert_array_equal(kw["component_means"], ckpt.params["prior.means"])
    for cov, logvar in zip(kw["component_covariances"], ckpt.params["prior.logvars"], strict=True):
        np.testing.assert_allclose(cov, np.diag(np.exp(logvar.astype(np.float64))))
    assert "prior's components" in kw["title"]


def test_mixture_components_are_projected_like_the_codes_above_two_dimensions(tmp_path, monkeypatch):
    folder = tmp_path / "k3"
    assert run_cli(["train", "--prior", "mixture", "--components", 2, "--latent", 3, "--epochs", 1,
                    "--hidden", 8, "--out", folder, "--quiet"])[0] == 0
    model, ckpt = load_run(folder)
    calls = []
    monkeypatch.setattr(figures.plots, "latent_scatter", lambda z, labels, path, **kw: calls.append((z, kw)))
    test = load_digits("test")
    figures.write_all(model, ckpt.params, test, [], tmp_path / "figs")
    (z, kw), = calls
    codes = model.encode(ckpt.params, test.x)[0]
    center, axes, _ = plots.principal_axes(codes)
    np.testing.assert_allclose(z, (codes - center) @ axes.T, atol=1e-5)
    projected = (ckpt.params["prior.means"] - center) @ axes.T
    np.testing.assert_allclose(kw["component_means"], projected, atol=1e-5)
    assert len(kw["component_covariances"]) == 2 and kw["component_covariances"][0].shape == (2, 2)


def _strip_new_keys(folder):
    """Make ``folder`` look like a run written before activation, classes, prior, ... existed
    (and before the convolutional network's arch, conv_channels and padding)."""
    new = ("activation", "classes", "prior", "components", "objective", "k", "arch", "conv_channels",
           "padding")
    path = folder / "checkpoint.npz"
    with np.load(path) as npz:
        entries = {k: npz[k] for k in npz.files}
    meta = json.loads(str(entries["meta"]))
    meta["config"] = {k: v for k, v in meta["config"].items() if k not in new}
    entries["meta"] = np.array(json.dumps(meta))
    np.savez(path, **entries)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k not in new}))
    return meta["config"]


def test_a_run_written_before_the_new_choices_still_loads_and_resumes(tmp_path):
    folder = tmp_path / "old"
    assert run_cli(["train", "--epochs", 1, "--hidden", 8, "--latent", 3, "--out", folder, "--quiet"])[0] == 0
    old = _strip_new_keys(folder)
    assert "prior" not in old and "classes" not in old
    model, ckpt = load_run(folder)
    assert (ckpt.config["activation"], ckpt.config["classes"], ckpt.config["prior"], ckpt.config["objective"],
            ckpt.config["k"], ckpt.config["components"]) == ("relu", 0, "standard", "elbo", 1, 0)
    assert (ckpt.config["arch"], ckpt.config["padding"], model.config.arch) == ("mlp", None, "mlp")
    for argv in (["evaluate", folder, "--k", 5, "--quiet"], ["sample", folder, "--n", 4], ["plot", folder],
                 ["explore", folder], ["train", "--resume", folder, "--epochs", 2, "--activation", "relu",
                                       "--quiet"]):
        code, _, err = run_cli(argv)
        assert code == 0, (argv, err)
    resumed = load_checkpoint(folder / "checkpoint.npz").config
    assert resumed["prior"] == "standard" and resumed["arch"] == "mlp"  # filled in on resume


def test_resume_refuses_to_change_the_new_choices(mixture_run):
    before = (mixture_run / "checkpoint.npz").read_bytes()
    code, _, err = run_cli(["train", "--resume", mixture_run, "--prior", "standard", "--components", 5])
    assert code == 2
    assert "--prior 'standard' (the run has 'mixture')" in err and "--components 5 (the run has 4)" in err
    assert (mixture_run / "checkpoint.npz").read_bytes() == before
