"""numvae train: the run folder, bit-identical resume, Ctrl-C, and option errors (digits, tiny runs)."""

import contextlib
import csv
import io
import json
import os

import numpy as np
import pytest

import numvae.vae
from numvae.cli import main
from numvae.plumbing import atomic as _atomic
from numvae.plumbing.checkpoint import load_checkpoint

# Dynamic binarization and a KL warm-up put every use of the Generator and of the epoch
# number to work, so a resume that restored anything wrongly would show.
TINY = ["--hidden", "16", "--batch-size", "100", "--binarize", "dynamic", "--kl-warmup", "3", "--quiet",
        "--grid-size", "5"]
BATCHES_PER_EPOCH = 15  # 1500 digits / 100


def run_cli(argv):
    """(exit status, stdout, stderr) of ``numvae ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's refusals exit
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def metric_rows(folder):
    """metrics.csv rows without the wall-clock column, which no two runs share."""
    with open(folder / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def assert_same_run(a, b):
    assert metric_rows(a) == metric_rows(b)
    ca, cb = load_checkpoint(a / "checkpoint.npz"), load_checkpoint(b / "checkpoint.npz")
    assert ca.epoch == cb.epoch
    assert np.array_equal(ca.params.flat, cb.params.flat)
    assert ca.opt_state["step"] == cb.opt_state["step"]
    assert np.array_equal(ca.opt_state["m"], cb.opt_state["m"])
    assert np.array_equal(ca.opt_state["v"], cb.opt_state["v"])
    assert ca.rng.bit_generator.state == cb.rng.bit_generator.state


@pytest.fixture(scope="module")
def one_go(tmp_path_factory):
    """The reference: 4 epochs without a stop."""
    folder = tmp_path_factory.mktemp("one_go") / "run"
    code, out, _ = run_cli(["train", "--epochs", 4, "--out", folder, *TINY])
    assert code == 0
    return folder, out


def test_run_folder_holds_config_metrics_checkpoint_and_figures(one_go):
    folder, out = one_go
    config = json.loads((folder / "config.json").read_text())
    assert config["hidden"] == [16] and config["latent"] == 2 and config["binarize"] == "dynamic"
    assert config["epochs"] == 4 and config["kl_warmup"] == 3 and config["image_shape"] == [8, 8]
    rows = metric_rows(folder)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert [float(r["beta"]) for r in rows] == pytest.approx([1 / 3, 2 / 3, 1, 1])
    ckpt = load_checkpoint(folder / "checkpoint.npz")
    assert ckpt.epoch == 4 and ckpt.config == config
    # the CSV holds the history exactly (full precision), one printed line per epoch
    assert [float(r["test_loss"]) for r in rows] == [h["test_loss"] for h in ckpt.history]
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 4 and "binarize=dynamic" in lines[0]
    assert f"{ckpt.history[-1]['test_loss']:8.3f}" in lines[-1]
    assert "untrained: test -ELBO" in out
    for name in ("reconstructions", "samples", "loss_curves", "latent", "manifold", "manifold_cdf"):
        assert (folder / "figures" / f"{name}.png").is_file()
    assert sorted(os.listdir(folder)) == ["checkpoint.npz", "config.json", "figures", "metrics.csv"]


def test_stop_after_epoch_2_and_resume_is_bit_identical(one_go, tmp_path):
    folder = tmp_path / "run"
    assert run_cli(["train", "--epochs", 2, "--out", folder, *TINY])[0] == 0
    code, out, _ = run_cli(["train", "--resume", folder, "--epochs", 4, "--quiet", "--grid-size", 5])
    assert code == 0
    assert "resuming after epoch 2 of 4" in out and "untrained" not in out
    assert_same_run(folder, one_go[0])


def test_ctrl_c_keeps_the_last_checkpoint_and_resuming_matches_the_uninterrupted_run(one_go, tmp_path,
                                                                                  monkeypatch):
    folder = tmp_path / "run"
    calls = {"n": 0}
    original = numvae.vae.VAE.loss_and_grads

    def interrupted_in_epoch_3(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2 * BATCHES_PER_EPOCH + 5:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(numvae.vae.VAE, "loss_and_grads", interrupted_in_epoch_3)
    code, out, err = run_cli(["train", "--epochs", 4, "--out", folder, *TINY])
    monkeypatch.undo()
    assert code == 130
    assert f"{folder / 'checkpoint.npz'} holds epoch 2 intact" in err
    assert f"numvae train --resume {folder}" in err
    assert load_checkpoint(folder / "checkpoint.npz").epoch == 2
    assert not (folder / "figures").exists()
    assert run_cli(["train", "--resume", folder, "--quiet", "--grid-size", 5])[0] == 0
    assert_same_run(folder, one_go[0])


def test_ctrl_c_during_the_checkpoint_write_leaves_the_previous_one(one_go, tmp_path, monkeypatch):
    folder = tmp_path / "run"
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("checkpoint.npz") and os.path.exists(dst) and load_checkpoint(dst).epoch == 2:
            raise KeyboardInterrupt  # the third checkpoint is on disk under its temporary name
        real_replace(src, dst)

    monkeypatch.setattr(_atomic.os, "replace", replace)
    code, _, err = run_cli(["train", "--epochs", 4, "--out", folder, *TINY])
    monkeypatch.undo()
    assert code == 130 and "holds epoch 2 intact" in err
    assert load_checkpoint(folder / "checkpoint.npz").epoch == 2
    assert sorted(os.listdir(folder)) == ["checkpoint.npz", "config.json", "metrics.csv"]
    # metrics.csv already had epoch 3's row; resuming rewrites it from the checkpoint
    assert [int(r["epoch"]) for r in metric_rows(folder)] == [1, 2, 3]
    assert run_cli(["train", "--resume", folder, "--quiet", "--grid-size", 5])[0] == 0
    assert_same_run(folder, one_go[0])


def test_an_existing_run_is_not_overwritten_unless_asked(one_go, tmp_path):
    folder = tmp_path / "run"
    assert run_cli(["train", "--epochs", 1, "--out", folder, *TINY])[0] == 0
    before = (folder / "checkpoint.npz").read_bytes()
    code, _, err = run_cli(["train", "--epochs", 1, "--out", folder, *TINY])
    assert code == 2 and "argument --out: expected a folder without a run" in err
    assert f"got '{folder}', which already holds a run" in err and f"--resume {folder}" in err
    assert (folder / "checkpoint.npz").read_bytes() == before
    assert run_cli(["train", "--epochs", 1, "--out", folder, "--overwrite", "--seed", 1, *TINY])[0] == 0
    assert (folder / "checkpoint.npz").read_bytes() != before
    assert len(metric_rows(folder)) == 1


def test_resume_refuses_options_that_would_change_the_run(one_go):
    folder = one_go[0]
    before = (folder / "checkpoint.npz").read_bytes()
    code, _, err = run_cli(["train", "--resume", folder, "--latent", 3, "--lr", 0.01, "--hidden", "16"])
    assert code == 2
    assert "--latent 3 (the run has 2)" in err and "--lr 0.01 (the run has 0.001)" in err
    assert "--hidden" not in err  # repeating an unchanged option is fine
    code, _, err = run_cli(["train", "--resume", folder, "--epochs", 3])
    assert code == 2 and "argument --epochs: expected at least the 4 epochs" in err
    assert err.endswith("got 3\n")
    assert (folder / "checkpoint.npz").read_bytes() == before


def test_missing_and_corrupt_runs_are_one_line_errors(tmp_path):
    code, _, err = run_cli(["train", "--resume", tmp_path / "nothing"])
    assert code == 2 and "argument --resume: expected a run folder" in err and "which does not exist" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run_cli(["train", "--resume", tmp_path / "bad"])
    assert code == 2 and "checkpoint.npz is not a readable checkpoint" in err


def test_bad_options_name_themselves(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--latent", "0", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--latent: expected a positive integer, got 0" in capsys.readouterr().err
    code, _, err = run_cli(["train", "--lr", "-1", "--out", tmp_path / "x"])
    assert code == 2 and "argument --lr: expected a positive finite number, got '-1'" in err
    code, _, err = run_cli(["train", "--beta", "-1", "--out", tmp_path / "x"])
    assert code == 2 and "argument --beta: expected a finite number >= 0, got '-1'" in err
    assert not (tmp_path / "x").exists()


def test_the_default_folder_never_overwrites_a_run(tmp_path, monkeypatch, capsys):
    """Running the README's command twice keeps both runs: runs/digits, then runs/digits-2."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "run folder runs/digits\n" in out and "run folder runs/digits-2\n" in out
    assert (tmp_path / "runs/digits/checkpoint.npz").exists()
    assert (tmp_path / "runs/digits-2/checkpoint.npz").exists()
