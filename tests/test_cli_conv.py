"""The convolutional VAE from the command line (issue 17): ``--arch conv`` through train, resume,
evaluate, sample, plot, gradcheck and explore; composed with the other axes; MNIST's 28x28
zero-padded to 32x32 and the padding recorded in the run, so that every command that reads the
run feeds its network the same images.

The 32x32 path runs without a download: a stand-in for MNIST, the embedded digits zero-padded
to 28x28 (``fake_mnist``), is what ``load_dataset('mnist', ...)`` returns in these tests.
"""

import json
import re
import time

import numpy as np
import pytest
from test_cli_figures import assert_grid_shows
from test_cli_train import assert_same_run, run_cli

import numvae.cli.gradcheck
import numvae.cli.options
import numvae.conv_net
from numvae.cli.options import DataFacts, network_input, pad_as_run
from numvae.data import Dataset, load_digits, pad_dataset
from numvae.iwae import importance_estimates
from numvae.plumbing import plots
from numvae.plumbing.runs import load_run, network_sizes
from numvae.train import evaluate

SMALL = ["--conv-channels", "4,8", "--hidden", 16, "--quiet", "--grid-size", 3]


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """A small convolutional VAE on the 8x8 digits (used as they are: 8 -> 4 -> 2)."""
    folder = tmp_path_factory.mktemp("conv") / "run"
    code, out, err = run_cli(["train", "--arch", "conv", "--epochs", 4, "--lr", 3e-3, "--out", folder,
                              *SMALL])
    assert code == 0, err
    return folder, out


def test_train_records_the_network_and_writes_its_figures(conv_run):
    folder, out = conv_run
    assert "VAE 8x8-conv4-conv8-16-2 (bernoulli, logvar head) on digits (1500 train" in out
    config = json.loads((folder / "config.json").read_text())
    assert (config["arch"], config["conv_channels"], config["image_shape"], config["padding"],
            config["input_dim"]) == ("conv", [4, 8], [8, 8], None, 64)
    model, ckpt = load_run(folder)
    assert model.config.arch == "conv" and model.config.conv_channels == (4, 8)
    assert {"enc.conv0.W", "enc.conv1.W", "dec.fc.W", "dec.deconv0.W", "dec.deconv1.b"} <= set(ckpt.params)
    assert "dec.out.W" not in ckpt.params
    figures = folder / "figures"
    assert_grid_shows(figures / "samples.png", model.sample(ckpt.params, 100, np.random.default_rng(0)),
                      (8, 8), ncols=10)
    x = load_digits("test").x[:10]
    assert_grid_shows(figures / "reconstructions.png", np.concatenate([x, model.reconstruct(ckpt.params, x)]),
                      (8, 8), ncols=10)
    z, _, _ = plots.manifold_codes(3, (-10, 5), (-5, 5))
    assert_grid_shows(figures / "manifold.png", model.decode(ckpt.params, z.astype(np.float32)), (8, 8),
                      ncols=3, labelled_axes=True)
    assert (figures / "latent.png").is_file() and (figures / "loss_curves.png").is_file()
    assert ckpt.history[-1]["test_loss"] < ckpt.history[0]["test_loss"]


def test_resume_continues_a_conv_run_bit_for_bit_and_refuses_to_change_its_network(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    options = ["--arch", "conv", "--batch-size", 100, "--binarize", "dynamic", *SMALL]
    assert run_cli(["train", "--epochs", 2, "--out", whole, *options])[0] == 0
    assert run_cli(["train", "--epochs", 1, "--out", parts, *options])[0] == 0
    before = (parts / "checkpoint.npz").read_bytes()
    code, _, err = run_cli(["train", "--resume", parts, "--epochs", 2, "--conv-channels", "8,8"])
    assert code == 2 and "--conv-channels [8, 8] (the run has [4, 8])" in err
    code, _, err = run_cli(["train", "--resume", parts, "--epochs", 2, "--arch", "mlp"])
    assert code == 2 and "--arch 'mlp' (the run has 'conv')" in err
    assert (parts / "checkpoint.npz").read_bytes() == before
    code, out, err = run_cli(["train", "--resume", parts, "--epochs", 2, "--arch", "conv",
                              "--conv-channels", "4,8", "--quiet"])
    assert code == 0, err
    assert "resuming after epoch 1 of 2" in out
    assert_same_run(parts, whole)


def test_evaluate_sample_plot_and_explore_read_the_conv_run(conv_run, tmp_path):
    folder, _ = conv_run
    model, ckpt = load_run(folder)
    code, out, err = run_cli(["evaluate", folder, "--k", 20, "--n", 50, "--quiet"])
    assert code == 0, err
    printed = float(re.search(r"log p\(x\) >= L_k\s+(-?\d+\.\d+)", out).group(1))
    x = load_digits("test").x[:50]
    rng = np.random.default_rng(0)
    evaluate(model, ckpt.params, x, rng)  # the command's ELBO line draws first
    _, log_px = importance_estimates(model, ckpt.params, x, 20, rng)
    assert printed == pytest.approx(log_px.mean(), abs=1e-3)

    code, _, err = run_cli(["sample", folder, "--n", 12, "--ncols", 4, "--seed", 5,
                            "--out", tmp_path / "s.png"])
    assert code == 0, err
    assert_grid_shows(tmp_path / "s.png", model.sample(ckpt.params, 12, np.random.default_rng(5)), (8, 8),
                      ncols=4)

    code, _, err = run_cli(["plot", folder, "--out", tmp_path / "figs", "--grid-size", 4])
    assert code == 0, err
    assert {p.name for p in (tmp_path / "figs").glob("*.png")} == {
        "reconstructions.png", "samples.png", "loss_curves.png", "latent.png", "manifold.png",
        "manifold_cdf.png"}

    code, _, err = run_cli(["explore", folder, "--out", tmp_path / "page.html"])
    assert code == 0, err
    page = (tmp_path / "page.html").read_text()
    assert "8x8-conv4-conv8-16-2" in page
    data = json.loads(re.search(r"const DATA = (.*);\n", page).group(1))
    kinds = [(layer["name"], layer["kind"], layer["activation"]) for layer in data["decoder"]]
    assert kinds == [("dec.0", "dense", "relu"), ("dec.fc", "dense", "relu"),
                     ("dec.deconv0", "deconv", "relu"), ("dec.deconv1", "deconv", None)]
    deconv0, deconv1 = data["decoder"][2:]
    assert (deconv0["inChannels"], deconv0["outChannels"], deconv0["inShape"], deconv0["outShape"]) == (
        8, 4, [2, 2], [4, 4])
    assert (deconv1["inChannels"], deconv1["outChannels"], deconv1["inShape"], deconv1["outShape"]) == (
        4, 1, [4, 4], [8, 8])
    assert (deconv1["kernel"], deconv1["stride"], deconv1["padding"], deconv1["outputPadding"]) == (
        3, 2, 1, 1)


def test_arch_conv_is_one_more_axis_a_conditional_mixture_iwae_conv_vae_runs_every_command(tmp_path):
    folder = tmp_path / "all"
    every = ["--arch", "conv", "--model", "cvae", "--prior", "mixture", "--components", 2,
             "--objective", "iwae", "--k", 2, "--variance-head", "relu", "--activation", "elu",
             "--batch-size", 100, *SMALL]
    code, out, err = run_cli(["train", "--epochs", 1, "--out", folder, *every])
    assert code == 0, err
    assert ("CVAE 8x8-conv4-conv8-16-2 (bernoulli, relu head, elu, 10 classes, mixture prior of 2, "
            "IWAE k=2)") in out
    config = json.loads((folder / "config.json").read_text())
    assert (config["arch"], config["classes"], config["prior"], config["objective"]) == (
        "conv", 10, "mixture", "iwae")
    names = {p.name for p in (folder / "figures").glob("*.png")}
    assert {"prior_components.png", "samples.png", "manifold_y7.png", "latent.png"} <= names
    for argv in (["sample", folder, "--label", 3, "--n", 4],
                 ["evaluate", folder, "--k", 3, "--n", 20, "--quiet"],
                 ["explore", folder],
                 ["train", "--resume", folder, "--epochs", 2, "--quiet", "--grid-size", 3]):
        code, _, err = run_cli(argv)
        assert code == 0, (argv, err)
    assert 'id="label"' in (folder / "explorer.html").read_text()
    assert load_run(folder)[1].epoch == 2


# ----- gradcheck ------------------------------------------------------------------------------
def gradient_rows(out):
    return [line.split() for line in out.splitlines() if line.endswith(" ok") or line.endswith(" FAIL")]


def test_gradcheck_arch_conv_is_quick_on_the_digits_and_checks_every_convolution():
    start = time.perf_counter()
    code, out, _ = run_cli(["gradcheck", "--arch", "conv"])
    seconds = time.perf_counter() - start
    assert code == 0, out
    assert "VAE 8x8-conv2-conv3-16-2 on 8 digits images" in out.splitlines()[0]  # 2 and 3 channels by default
    names = [row[0] for row in gradient_rows(out)]
    assert names[:4] == ["enc.conv0.W", "enc.conv0.b", "enc.conv1.W", "enc.conv1.b"]
    assert names[-6:] == ["dec.fc.W", "dec.fc.b", "dec.deconv0.W", "dec.deconv0.b", "dec.deconv1.W",
                          "dec.deconv1.b"]
    assert all(row[-1] == "ok" for row in gradient_rows(out))
    print(f"gradcheck --arch conv: {seconds:.1f} s")
    assert seconds < 60  # about 2 s on a free core; a generous bound for a loaded machine


@pytest.mark.parametrize("options", [
    ["--conv-channels", "3,4", "--model", "cvae", "--prior", "mixture", "--components", "2",
     "--objective", "iwae", "--k", "2", "--activation", "tanh", "--variance-head", "relu"],
    ["--model", "ae", "--hidden", "none", "--likelihood", "gaussian"],
], ids=["every-axis", "autoencoder-no-hidden"])
def test_gradcheck_arch_conv_composes_with_the_other_axes(options):
    code, out, _ = run_cli(["gradcheck", "--arch", "conv", "--batch-size", 4, *options])
    assert code == 0, out
    names = [row[0] for row in gradient_rows(out)]
    assert "enc.conv1.W" in names and "dec.deconv1.W" in names
    assert f"all {len(names)} parameters agree" in out
    if "cvae" in options:
        assert "prior.means" in names and "enc.sigma.W" in names
        assert "tanh hidden layers, 10 classes, mixture prior of 2, loss -L_2" in out.splitlines()[0]


def test_gradcheck_names_a_wrong_convolution_gradient(monkeypatch):
    original = numvae.conv_net.conv_transpose2d_backward

    def off_by_a_little(dout, cache, **kwargs):
        dx, dW, db = original(dout, cache, **kwargs)
        if dW.shape[1] == 1:  # the last transposed convolution, 2 -> 1 channels
            dW *= 1.001
        return dx, dW, db

    monkeypatch.setattr(numvae.conv_net, "conv_transpose2d_backward", off_by_a_little)
    code, out, _ = run_cli(["gradcheck", "--arch", "conv"])
    assert code == 1
    assert [row[0] for row in gradient_rows(out) if row[-1] == "FAIL"] == ["dec.deconv1.W"]


# ----- MNIST-like 28x28 sets: zero-padded to 32x32, as the lecture does ----------------------------
def fake_mnist(name, split="train", data_dir=None, download=True, binarize=None):
    """The digits, zero-padded from 8x8 to 28x28: a labelled 28x28 set that needs no download."""
    assert name == "mnist", name
    digits = load_digits(split)
    data = pad_dataset(digits, (28, 28))
    if split == "train":
        data = Dataset(data.x[:300], data.y[:300], data.image_shape, data.name)
    return Dataset(data.x, data.y, data.image_shape, "mnist", binarize)


@pytest.fixture
def mnist_standin(monkeypatch):
    monkeypatch.setattr(numvae.cli.options, "load_dataset", fake_mnist)
    monkeypatch.setattr(numvae.cli.gradcheck, "load_dataset", fake_mnist)


def test_network_input_pads_28x28_sets_to_32x32_and_leaves_the_digits_alone():
    assert network_input("mnist", "conv") == ((32, 32), [[2, 2], [2, 2]])
    assert network_input("binarized-mnist", "conv") == ((32, 32), [[2, 2], [2, 2]])
    assert network_input("digits", "conv") == ((8, 8), None)
    assert network_input("mnist", "mlp") == ((28, 28), None)  # the MLP reads MNIST as it is


def test_a_conv_run_on_mnist_pads_to_32x32_and_every_command_reads_it_so(mnist_standin, tmp_path):
    folder = tmp_path / "mnist"
    code, out, err = run_cli(["train", "--arch", "conv", "--dataset", "mnist", "--epochs", 1,
                              "--batch-size", 50, "--lr", 1e-2, "--out", folder, *SMALL])
    assert code == 0, err
    assert "VAE 32x32-conv4-conv8-16-2" in out and "on mnist zero-padded from 28x28 to 32x32" in out
    config = json.loads((folder / "config.json").read_text())
    assert (config["image_shape"], config["padding"], config["input_dim"]) == (
        [32, 32], [[2, 2], [2, 2]], 1024)
    model, ckpt = load_run(folder)
    assert model.config.image_shape == (32, 32) and network_sizes(config) == "32x32-conv4-conv8-16-2"

    # what the network reads: the 28x28 images centred in 32x32 zeros
    test = pad_as_run(fake_mnist("mnist", "test"), config)
    images = test.x.reshape(-1, 32, 32)
    assert test.image_shape == (32, 32)
    assert np.array_equal(images[:, 2:30, 2:30].reshape(len(images), -1), fake_mnist("mnist", "test").x)
    assert not images[:, :2].any() and not images[:, 30:].any() and not images[:, :, :2].any()

    # (after one epoch on 300 images the samples are still close to the mean image: barely not blank)
    assert_grid_shows(folder / "figures" / "samples.png",
                      model.sample(ckpt.params, 100, np.random.default_rng(0)), (32, 32), ncols=10,
                      min_std=0.01)
    x = test.x[:10]
    assert_grid_shows(folder / "figures" / "reconstructions.png",
                      np.concatenate([x, model.reconstruct(ckpt.params, x)]), (32, 32), ncols=10)

    code, out, err = run_cli(["evaluate", folder, "--k", 5, "--n", 20, "--quiet"])
    assert code == 0, err
    rng = np.random.default_rng(0)
    evaluate(model, ckpt.params, test.x[:20], rng)
    _, log_px = importance_estimates(model, ckpt.params, test.x[:20], 5, rng)
    assert float(re.search(r"log p\(x\) >= L_k\s+(-?\d+\.\d+)", out).group(1)) == pytest.approx(
        log_px.mean(), abs=1e-3)

    code, _, err = run_cli(["sample", folder, "--n", 4, "--out", tmp_path / "s.png"])
    assert code == 0, err
    assert_grid_shows(tmp_path / "s.png", model.sample(ckpt.params, 4, np.random.default_rng(0)), (32, 32),
                      ncols=10, min_std=0.01)
    code, _, err = run_cli(["plot", folder, "--out", tmp_path / "figs", "--grid-size", 3])
    assert code == 0, err
    z, _, _ = plots.manifold_codes(3, (-10, 5), (-5, 5))
    assert_grid_shows(tmp_path / "figs" / "manifold.png", model.decode(ckpt.params, z.astype(np.float32)),
                      (32, 32), ncols=3, labelled_axes=True, min_std=0.01)
    code, _, err = run_cli(["explore", folder, "--out", tmp_path / "page.html"])
    assert code == 0, err
    page = (tmp_path / "page.html").read_text()
    assert '"imageShape": [32, 32]' in page and "zero-padded from 28x28 to 32x32" in page

    code, out, err = run_cli(["train", "--resume", folder, "--epochs", 2, "--quiet", "--grid-size", 3])
    assert code == 0, err
    assert load_run(folder)[1].epoch == 2


def test_gradcheck_arch_conv_on_mnist_checks_the_padded_32x32_network(mnist_standin):
    code, out, _ = run_cli(["gradcheck", "--arch", "conv", "--dataset", "mnist", "--hidden", 3,
                            "--batch-size", 2, "--conv-channels", "1,2"])
    assert code == 0, out
    assert "VAE 32x32-conv1-conv2-3-2 on 2 mnist images padded to 32x32" in out.splitlines()[0]


def test_images_whose_sides_are_not_multiples_of_4_are_refused_in_one_line(monkeypatch, tmp_path):
    facts = DataFacts(image_shape=(30, 30), classes=10, test_size=10000, binary=False)
    monkeypatch.setattr(numvae.cli.options, "data_facts", lambda name: facts)

    def no_data(*args, **kwargs):
        raise AssertionError("a data set was loaded before the arguments were checked")

    monkeypatch.setattr(numvae.cli.options, "load_dataset", no_data)
    monkeypatch.setattr(numvae.cli.gradcheck, "load_dataset", no_data)
    lines = {"train": ["--dataset", "fashion-mnist", "--out", tmp_path / "r"],
             "gradcheck": ["--dataset", "mnist"]}
    for command, options in lines.items():
        code, out, err = run_cli([command, "--arch", "conv", *options])
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"numvae {command}: error: argument --arch conv: expected images whose "
                              "sides are multiples of 4"), err
        assert "whose images are 30x30" in err
    assert not (tmp_path / "r").exists()
