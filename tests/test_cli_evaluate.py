"""numvae evaluate: the ELBO, the importance-weighted bound L_k, their order and merging."""

import re

import numpy as np
import pytest
from scipy.special import logsumexp
from test_cli_train import run_cli

from numvae import iwae
from numvae.data import load_digits
from numvae.plumbing.runs import load_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    # A KL weight below 1 leaves q(z|x) narrower than the true posterior: a gap of about
    # half a nat that L_k closes as k grows, several standard errors above the noise.
    folder = tmp_path_factory.mktemp("evaluate") / "run"
    code, _, _ = run_cli(["train", "--epochs", 8, "--hidden", 32, "--beta", 0.2, "--out", folder,
                          "--quiet", "--grid-size", 5])
    assert code == 0
    return folder


def numbers(text):
    def value(label):
        return float(re.search(re.escape(label) + r"\s+(-?\d+\.\d+)", text).group(1))
    return {"test_loss": value("test -ELBO, 1 draw per image"), "elbo": value("ELBO, mean of k log w"),
            "L_k": value("log p(x) >= L_k"), "gap": value("gap L_k - ELBO")}


def test_iwae_bound_is_above_the_elbo_and_tightens_as_k_grows(run_dir):
    results = {}
    for k in (1, 4, 100):
        code, out, _ = run_cli(["evaluate", run_dir, "--k", k, "--seed", 0])
        assert code == 0 and f"k = {k}" in out and "297 test images of digits" in out
        results[k] = numbers(out)
    assert results[1]["L_k"] == results[1]["elbo"] and results[1]["gap"] == 0  # L_1 is the ELBO
    assert results[1]["L_k"] < results[4]["L_k"] < results[100]["L_k"]
    for r in results.values():
        assert r["gap"] >= 0
        assert r["gap"] == pytest.approx(r["L_k"] - r["elbo"], abs=2e-3)
        # the one-draw -ELBO and the k-draw ELBO estimate the same quantity
        assert -r["elbo"] == pytest.approx(r["test_loss"], abs=0.5)
    assert results[100]["gap"] > 0.3


def test_every_image_has_L_k_at_least_its_elbo_estimate(run_dir):
    model, ckpt = load_run(run_dir)
    x = load_digits("test").x[:50]
    elbo, log_px = iwae.importance_estimates(model, ckpt.params, x, 7, np.random.default_rng(1))
    assert elbo.shape == log_px.shape == (50,)
    assert np.all(log_px >= elbo)  # Jensen, draw by draw: not a statistical statement


def test_chunks_and_pieces_merge_to_the_mean_and_logmeanexp_of_all_weights(run_dir, monkeypatch):
    model, ckpt = load_run(run_dir)
    x = load_digits("test").x[:10]
    source = np.random.default_rng(2)
    drawn = []  # (first image, log w (k_piece, rows)) in the order the estimator asked for them

    def fake_log_weights(model, params, xb, k, rng, y=None):
        log_w = source.normal(-60.0, 15.0, size=(k, len(xb)))
        first = next(i for i in range(len(x)) if np.array_equal(x[i], xb[0]))
        drawn.append((first, log_w))
        return log_w

    monkeypatch.setattr(iwae, "log_importance_weights", fake_log_weights)
    # k = 20 with room for 7 samples: pieces of 7, 7, 6; one image per chunk
    elbo, log_px = iwae.importance_estimates(model, ckpt.params, x, 20, np.random.default_rng(0),
                                             max_samples_per_chunk=7)
    assert len(drawn) == 30
    for i in range(10):
        w = np.concatenate([log_w[:, 0] for first, log_w in drawn if first == i])
        assert w.shape == (20,)
        assert elbo[i] == pytest.approx(w.mean(), rel=1e-13)
        assert log_px[i] == pytest.approx(logsumexp(w) - np.log(20), rel=1e-13)


def test_autoencoder_runs_report_reconstruction_only(tmp_path):
    folder = tmp_path / "ae"
    assert run_cli(["train", "--model", "ae", "--epochs", 1, "--hidden", 16, "--out", folder, "--quiet",
                    "--grid-size", 5])[0] == 0
    code, out, _ = run_cli(["evaluate", folder, "--k", 10])
    assert code == 0 and "reconstruction" in out and "no ELBO and no log p(x)" in out


def test_missing_run_is_a_clear_error(tmp_path):
    code, _, err = run_cli(["evaluate", tmp_path / "nope"])
    assert code == 2 and "argument DIR: expected a run folder written by 'numvae train'" in err
    assert "nope', which does not exist" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["evaluate", tmp_path / "empty"])
    assert code == 2 and "empty', which holds no checkpoint.npz" in err
