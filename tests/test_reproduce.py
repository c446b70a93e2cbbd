"""benchmarks/reproduce.py: the published setups as configured, and runs that write every figure.

The smoke runs train for a few steps on the embedded 8x8 digits (--dataset digits), so
they need no data files; the MNIST ones run when NUMVAE_DATA_DIR is set. No figure is
compared with a published one here: that takes the real schedule (README, "Reproducing
published numbers").
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "reproduce.py"
sys.path.insert(0, str(REPO / "benchmarks"))

import reproduce  # noqa: E402
from reproduce_setups import SETUPS  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.data import load_digits  # noqa: E402

NAMES = ["cs236-vae", "cs236-vae-softplus-head", "cs236-gmvae", "cs236-gmvae-fixed-weights", "burda-vae",
         "burda-iwae-k5", "burda-iwae-k50", "pythae-rm-vae", "pythae-rm-vae-1000"]
CS236_KEYS = ["negative_elbo", "kl", "reconstruction", "negative_L_1", "negative_L_10", "negative_L_100",
              "negative_L_1000"]
needs_mnist = pytest.mark.skipif(not os.environ.get("NUMVAE_DATA_DIR"),
                                 reason="NUMVAE_DATA_DIR is not set (MNIST, binarized MNIST)")


def run_script(*args, tmp_path, timeout=300):
    return subprocess.run([sys.executable, str(SCRIPT), *args, "--no-progress"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def smoke(name, tmp_path, *extra, folder="run", out="out.json"):
    proc = run_script(name, "--dataset", "digits", "--out", str(tmp_path / folder), "--json",
                      str(tmp_path / out), *extra, tmp_path=tmp_path)
    return proc, (json.loads((tmp_path / out).read_text()) if proc.returncode == 0 else None)


# ----- the command line ----------------------------------------------------------------------
def test_list_names_every_setup(tmp_path):
    proc = run_script("--list", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == NAMES


def test_a_bad_name_is_one_line_and_status_2(tmp_path):
    proc = run_script("cs237-vae", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "cs237-vae" in proc.stderr and "cs236-vae" in proc.stderr


def test_missing_data_is_one_line_and_status_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMVAE_DATA_DIR"}
    env["HOME"] = str(tmp_path)  # no user cache either
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, str(SCRIPT), "pythae-rm-vae", "--data-dir", str(tmp_path),
                           "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "--data-dir" in proc.stderr


# ----- each setup is its published architecture and schedule ----------------------------------
def shapes(name):
    setup = SETUPS[name]
    return nv.VAE(nv.ModelConfig(input_dim=784, **setup.model)).param_shapes()


@pytest.mark.parametrize("name", ["cs236-vae", "cs236-gmvae"])
def test_cs236_networks_are_784_300_300_elu_with_10_latents(name):
    s = shapes(name)
    assert s["enc.0.W"] == (784, 300) and s["enc.1.W"] == (300, 300)
    assert s["enc.mu.W"] == (300, 10) and s["enc.logvar.W"] == (300, 10)
    assert s["dec.0.W"] == (10, 300) and s["dec.1.W"] == (300, 300) and s["dec.out.W"] == (300, 784)
    setup = SETUPS[name]
    assert setup.model["activation"] == "elu" and setup.batch_size == 97 and setup.binarize == "dynamic"
    assert [(st.lr, st.iterations) for st in setup.stages] == [(1e-3, 20000)]
    if name == "cs236-gmvae":
        assert (s["prior.means"], s["prior.logvars"], s["prior.logits"]) == ((500, 10), (500, 10), (500,))
    else:
        assert not any(k.startswith("prior.") for k in s)


@pytest.mark.parametrize("name,k", [("burda-vae", 1), ("burda-iwae-k5", 5), ("burda-iwae-k50", 50)])
def test_burda_networks_schedule_and_optimizer(name, k):
    s, setup = shapes(name), SETUPS[name]
    assert s["enc.0.W"] == (784, 200) and s["enc.1.W"] == (200, 200) and s["enc.mu.W"] == (200, 50)
    assert s["dec.0.W"] == (50, 200) and s["dec.1.W"] == (200, 200) and s["dec.out.W"] == (200, 784)
    config = nv.ModelConfig(input_dim=784, **setup.model)
    assert config.activation == "tanh" and config.k == k and config.objective == ("iwae" if k > 1 else "elbo")
    assert setup.batch_size == 20 and setup.train_images == 59600 and setup.binarize == "dynamic"
    assert [st.epochs for st in setup.stages] == [3 ** i for i in range(8)]
    assert sum(st.epochs for st in setup.stages) == 3280
    assert [st.lr for st in setup.stages] == pytest.approx([1e-3, 7.2e-4, 5.2e-4, 3.7e-4, 2.7e-4, 1.9e-4,
                                                            1.4e-4, 1e-4])
    assert setup.adam == {"beta1": 0.9, "beta2": 0.999, "eps": 1e-4}
    assert setup.evaluation.ks == {5000: 1} and setup.evaluation.images == "test-dynamic"


def test_cs236_softplus_head_is_cs236_vae_with_cs236s_variance():
    """The test setup differs from cs236-vae in the encoder's variance head and nothing else."""
    a, b = SETUPS["cs236-vae"], SETUPS["cs236-vae-softplus-head"]
    assert b.model == {**a.model, "variance_head": "softplus"} and b.differences == ()
    assert replace(b, name=a.name, title=a.title, model=a.model, differences=a.differences) == a
    assert shapes(b.name)["enc.var.W"] == (300, 10) and "enc.logvar.W" not in shapes(b.name)


def test_pythae_1000_is_pythae_continued_step_for_step():
    """Its first 500 epochs are pythae-rm-vae's: a run of either can continue into the other's."""
    short, long = (reproduce.plan(SETUPS[n], 50000, None, None)
                   for n in ("pythae-rm-vae", "pythae-rm-vae-1000"))
    assert [(u["stage"], u["lr"], u["batches"]) for u in long[:500]] == [
        (u["stage"], u["lr"], u["batches"]) for u in short]
    assert len(long) == 1000
    assert [u["lr"] for u in long[500::250]] == [1e-4 * 10 ** (-3 / 5), 1e-4 * 10 ** (-4 / 5)]
    a, b = SETUPS["pythae-rm-vae"], SETUPS["pythae-rm-vae-1000"]
    assert (a.model, a.batch_size, a.evaluation, a.select_on_valid, a.dataset, a.init) == (
        b.model, b.batch_size, b.evaluation, b.select_on_valid, b.dataset, b.init)


def test_pythae_network_schedule_and_selection():
    s, setup = shapes("pythae-rm-vae"), SETUPS["pythae-rm-vae"]
    assert s["enc.0.W"] == (784, 400) and s["enc.mu.W"] == (400, 40) and s["enc.logvar.W"] == (400, 40)
    assert s["dec.0.W"] == (40, 400) and s["dec.out.W"] == (400, 784) and "enc.1.W" not in s
    assert setup.model.get("activation", "relu") == "relu" and setup.dataset == "binarized-mnist"
    assert setup.batch_size == 100 and setup.select_on_valid and setup.evaluation.ks == {200: 5}
    assert [st.epochs for st in setup.stages] == [200, 150, 150]
    assert [st.lr for st in setup.stages] == pytest.approx([1e-4, 1e-4 * 10 ** -0.2, 1e-4 * 10 ** -0.4])


def test_cs236_plan_is_20000_steps_32_epochs_and_a_part():
    units = reproduce.plan(SETUPS["cs236-vae"], 60000, None, None)
    assert [u["batches"] for u in units] == [619] * 32 + [192]
    assert sum(u["batches"] for u in units) == 20000 and [u["stage_end"] for u in units][-2:] == [False, True]
    cut = reproduce.plan(SETUPS["burda-vae"], 59600, 40, None)  # stages 0-3: 1 + 3 + 9 + 27 epochs
    assert len(cut) == 40 and [i + 1 for i, u in enumerate(cut) if u["stage_end"]] == [1, 4, 13, 40]
    assert sum(u["batches"] for u in reproduce.plan(SETUPS["burda-vae"], 59600, None, None)) == 3280 * 2980


def test_burda_initialisation_is_glorot_with_the_data_mean_as_output_bias():
    setup = SETUPS["burda-vae"]
    model = nv.VAE(nv.ModelConfig(input_dim=64, **setup.model))
    x = nv.load_dataset("digits", "train").x
    params = reproduce.init_params(setup, model, x, np.random.default_rng(0))
    bound = math.sqrt(6 / (64 + 200))
    assert np.abs(params["enc.0.W"]).max() <= bound and np.abs(params["enc.0.W"]).max() > 0.9 * bound
    assert not params["enc.0.b"].any() and not params["enc.mu.b"].any()
    assert np.abs(params["enc.logvar.W"]).max() <= 2 * math.sqrt(6 / 250)
    mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
    assert np.allclose(1 / (1 + np.exp(-params["dec.out.b"])), mean, atol=1e-6)


def test_cs236_mixture_prior_starts_as_cs236s():
    setup = SETUPS["cs236-gmvae"]
    model = nv.VAE(nv.ModelConfig(input_dim=64, **setup.model))
    params = reproduce.init_params(setup, model, np.zeros((1, 64), np.float32), np.random.default_rng(0))
    assert np.abs(params["prior.means"]).max() < 6 / math.sqrt(5000)  # randn / sqrt(C K)
    assert np.allclose(np.exp(params["prior.logvars"]), math.log(2), atol=0.05)  # softplus(~0)
    assert not params["prior.logits"].any()  # uniform weights


def test_cs236_gmvae_fixed_weights_is_cs236_gmvae_with_its_weights_fixed():
    a, b = SETUPS["cs236-gmvae"], SETUPS["cs236-gmvae-fixed-weights"]
    assert b.fixed == ("prior.logits",) and a.fixed == ()
    assert replace(b, name=a.name, title=a.title, fixed=(), differences=a.differences) == a
    assert not any("weights" in d for d in b.differences)  # the difference it removes


@pytest.mark.parametrize("fixed", [(), ("prior.logits",)])
def test_keep_fixed_leaves_those_parameters_exactly_where_they_started(fixed):
    """Adam through KeepFixed: the fixed mixture weights stay 0 to the bit, the rest move;
    without KeepFixed's names the weights move too (so the test can tell)."""
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(16,), latent=2, prior="mixture", components=3))
    rng = np.random.default_rng(0)
    params = model.init_params(rng)
    params["prior.logits"][...] = 0
    start = params.copy()
    optimizer = reproduce.KeepFixed(nv.Adam(lr=1e-2), fixed)
    x = load_digits("train").x[:200]
    nv.train_epoch(model, params, x, optimizer, nv.Adam().init(params), rng, batch_size=20)
    assert np.array_equal(params["prior.logits"], start["prior.logits"]) == bool(fixed)
    assert not np.array_equal(params["prior.means"], start["prior.means"])


# ----- runs ----------------------------------------------------------------------------------
def test_cs236_smoke_run_writes_every_figure(tmp_path):
    proc, result = smoke("cs236-vae", tmp_path, "--steps", "20", "--eval-images", "20")
    assert proc.returncode == 0, proc.stderr
    figures = result["figures"]
    assert list(figures) == CS236_KEYS
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    assert figures["negative_elbo"] == pytest.approx(figures["kl"] + figures["reconstruction"])
    assert figures["negative_L_1000"] <= figures["negative_L_1"] + 0.5  # L_k grows with k
    assert set(result["within_tolerance"]) == set(CS236_KEYS)
    assert {k: v["value"] for k, v in result["published"].items()} == dict(zip(
        CS236_KEYS, [100, 19.5, 82, 99, 97, 96, 95], strict=True))
    assert result["schedule"]["run_steps"] == 20 and result["schedule"]["published_steps"] == 20000
    assert result["schedule"]["complete"] is False
    assert result["settings"]["eval_images"] == 20 and "RandomState(0)" in result["data"]["evaluation"]
    assert result["data"]["evaluation"].startswith("the first 20 of the CS236 grader's 100 test images")
    assert [r["batches"] for r in result["history"]] == [16, 4]  # 1500 digits / 97 = 16 batches an epoch
    assert result["seconds"]["train"] > 0 and result["machine"]["cores"] >= 1
    run = tmp_path / "run"
    assert (run / "checkpoint.npz").is_file() and (run / "evaluations.json").is_file()
    assert "within" in proc.stdout or "OUTSIDE" in proc.stdout


def test_pythae_smoke_run_keeps_the_best_validation_epoch(tmp_path):
    proc, result = smoke("pythae-rm-vae", tmp_path, "--epochs", "3", "--limit", "300", "--eval-k", "20",
                         "--eval-images", "60")
    assert proc.returncode == 0, proc.stderr
    assert set(result["figures"]) == {"negative_elbo", "kl", "reconstruction", "negative_L_20"}
    valid = [r["valid_loss"] for r in result["history"]]
    best = 1 + int(np.argmin(valid))
    assert result["evaluations"][-1]["params"] == f"best validation epoch {best}"
    assert (tmp_path / "run" / "best.npz").is_file()
    assert result["settings"]["eval"]["ks"] == {"20": 1}  # the cheaper measure is on record


def test_resume_after_an_interruption_gives_the_same_figures(tmp_path):
    args = ("--epochs", "4", "--limit", "200", "--eval-k", "30", "--eval-images", "40")
    proc, straight = smoke("burda-iwae-k5", tmp_path, *args, folder="a", out="a.json")
    assert proc.returncode == 0, proc.stderr
    stopped, _ = smoke("burda-iwae-k5", tmp_path, *args, "--interrupt-after", "2", folder="b", out="b.json")
    assert stopped.returncode == 130 and "again" in stopped.stderr
    proc, resumed = smoke("burda-iwae-k5", tmp_path, *args, folder="b", out="b.json")
    assert proc.returncode == 0, proc.stderr
    assert resumed["figures"] == straight["figures"]
    assert [e["figures"] for e in resumed["evaluations"]] == [e["figures"] for e in straight["evaluations"]]
    assert [e["epoch"] for e in straight["evaluations"]] == [1, 4]  # after stage 0 (1 epoch), at the end

    def strip(history):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in history]

    assert strip(resumed["history"]) == strip(straight["history"])
    # measured again, otherwise, without training again
    again = ("--epochs", "4", "--limit", "200", "--eval-k", "20", "--eval-images", "40")
    proc, remeasured = smoke("burda-iwae-k5", tmp_path, *again, folder="b", out="c.json")
    assert proc.returncode == 0, proc.stderr
    assert set(remeasured["figures"]) == {"negative_elbo", "kl", "reconstruction", "negative_L_20"}
    assert remeasured["history"] == resumed["history"]


def test_a_folder_of_another_run_is_refused(tmp_path):
    proc, _ = smoke("cs236-vae", tmp_path, "--steps", "2", "--eval-k", "5")
    assert proc.returncode == 0, proc.stderr
    proc, _ = smoke("cs236-vae", tmp_path, "--steps", "2", "--eval-k", "5", "--seed", "1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "--overwrite" in proc.stderr


@needs_mnist
def test_cs236_grader_images_are_its_hundred():
    from reproduce_data import cs236_grader_images

    test = nv.load_dataset("mnist", "test", download=False)
    x = cs236_grader_images(test.x, test.y, digits=False)
    assert x.shape == (100, 784) and set(np.unique(x)) <= {0.0, 1.0}
    # digit 0's first image is the 685th zero of the test file, binarized by RandomState(0)
    first = test.x[np.flatnonzero(test.y == 0)[684]]
    assert np.array_equal(x[0], np.random.RandomState(0).binomial(1, first[None])[0])
    assert np.array_equal(x, cs236_grader_images(test.x, test.y, digits=False))  # the same every time


@needs_mnist
@pytest.mark.parametrize("name", ["cs236-gmvae", "pythae-rm-vae"])
def test_mnist_smoke_runs(tmp_path, name):
    proc = run_script(name, "--steps", "3", "--eval-k", "5", "--eval-images", "100",
                      "--out", str(tmp_path / "r"), "--json", str(tmp_path / "r.json"), tmp_path=tmp_path,
                      timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["settings"]["dataset"] == ("mnist" if name.startswith("cs236") else "binarized-mnist")
    assert result["settings"]["eval_images"] == 100
    assert all(math.isfinite(v) for v in result["figures"].values())


# ----- pythae's setup in PyTorch: the yardstick for numvae's pythae-rm-vae training --------------
@needs_mnist
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_pythae_in_torch_trains_and_prints_numvaes_curve_beside(tmp_path):
    history = {"history": [{"valid_loss": 200.0 + i} for i in range(3)]}
    (tmp_path / "numvae.json").write_text(json.dumps(history))
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "pythae_in_torch.py"), "--epochs", "2",
                           "--limit", "1000", "--compare", str(tmp_path / "numvae.json"),
                           "--json", str(tmp_path / "torch.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert [line.split("numvae ")[1].split()[0] for line in proc.stdout.splitlines()] == ["200.00", "201.00"]
    curve = json.loads((tmp_path / "torch.json").read_text())["valid_negative_elbo"]
    # It learns: below 784 ln 2 = 543.4 nats, what predicting 1/2 for every pixel costs.
    assert len(curve) == 2 and all(math.isfinite(v) for v in curve)
    assert curve[1] < curve[0] < 784 * math.log(2)


@needs_mnist
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_pythae_in_torch_measures_l200_of_the_best_validation_model(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "pythae_in_torch.py"), "--epochs", "2",
                           "--limit", "500", "--nll-rounds", "2", "--json", str(tmp_path / "torch.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "torch.json").read_text())
    curve, nll = result["valid_negative_elbo"], result["negative_L_200"]
    assert result["best_epoch"] == 1 + curve.index(min(curve))
    assert nll["test_images"] == 500 and len(nll["rounds"]) == 2
    assert nll["mean"] == pytest.approx(sum(nll["rounds"]) / 2)
    # log-mean-exp of the weights is at least their mean (Jensen), and the two rounds draw
    # anew: finite, different, close.
    for nl, ne in zip(nll["rounds"], nll["negative_elbo_same_draws"], strict=True):
        assert 0 < nl < ne
    assert nll["rounds"][0] != nll["rounds"][1] and abs(nll["rounds"][0] - nll["rounds"][1]) < 1
