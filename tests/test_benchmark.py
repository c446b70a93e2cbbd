"""benchmarks/bench_train.py runs end to end and writes complete, well-formed JSON.

Timings are never asserted (they depend on the machine and its load); what is checked
is that every figure the README's table and the issue ask for is present, finite and
consistent with the others.
"""

import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "bench_train.py"


def run_bench(*args, env=None, tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)
    return proc, out


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def check_common(result: dict, epochs: int, input_dim: int, arch: str = "mlp"):
    assert set(result) == {"settings", "machine", "epoch_gflop", "floor_seconds", "products_alone_seconds",
                           "epochs", "numvae", "torch", "plain_numpy", "median_ratio", "iwae"}
    s = result["settings"]
    hidden = 400 if arch == "mlp" else 256
    assert (s["input_dim"], s["hidden"], s["latent"], s["arch"]) == (input_dim, hidden, 20, arch)
    assert s["batch_size"] == 128
    assert (s["lr"], s["dtype"], s["binarize"], s["epochs"]) == (1e-3, "float32", "none", epochs)
    assert positive(result["machine"]["matmul_gflops"]) and result["machine"]["cores"] >= 1
    d, h, k, n = input_dim, hidden, 20, s["train_images"]
    if arch == "mlp":  # one epoch's matrix products: 2 N (2 D H + 3 (2 H K + K H + H D)) operations
        per_example = 2 * d * h + 3 * (2 * h * k + k * h + h * d)
        assert result["epoch_gflop"] == pytest.approx(2 * n * per_example / 1e9)
        assert positive(result["products_alone_seconds"])
    else:  # four convolutions (the first without dx) around dense layers to and from F features
        side = s["image_shape"][0]
        f = 64 * (side // 4) ** 2
        quarter, half = (side // 4) ** 2, (side // 2) ** 2  # output pixels of the stride-2 layers
        convs = 2 * 32 * half * 9 + 3 * (64 * 32 * quarter * 9 + 64 * 32 * quarter * 9 + 32 * half * 9)
        dense = 3 * (f * h + 2 * h * k + k * h + h * f)
        assert result["epoch_gflop"] == pytest.approx(2 * n * (convs + dense) / 1e9)
        assert result["products_alone_seconds"] is None
    peak = result["machine"]["matmul_gflops"]
    assert result["floor_seconds"] == pytest.approx(result["epoch_gflop"] / peak)
    assert [r["epoch"] for r in result["epochs"]] == list(range(1, epochs + 1))
    # steady state: medians over epochs 2..N (the first one warms up)
    assert s["steady_epochs"] == (list(range(2, epochs + 1)) if epochs > 1 else [1])
    for row in result["epochs"]:
        assert positive(row["numvae"]["seconds"])
        assert positive(row["numvae"]["test_loss"]) and positive(row["numvae"]["train_loss"])
    ours = result["numvae"]
    seconds = [r["numvae"]["seconds"] for r in result["epochs"]]
    assert ours["epoch_seconds"] == seconds
    assert ours["median_seconds"] == pytest.approx(statistics.median(seconds[1:] if epochs > 1 else seconds))
    # drift: the last epoch's time over the second's, once there are three epochs
    assert ours["drift"] == (pytest.approx(seconds[-1] / seconds[1]) if epochs >= 3 else None)
    # numvae flushes subnormal numbers: none in Adam's state or the gradients at the end
    assert ours["subnormals"] == {"optimizer_state": 0, "gradients": 0}
    assert positive(ours["median_seconds"])
    assert 0 < ours["peak_rss_after_loading_bytes"] <= ours["peak_rss_bytes"]
    assert ours["torch_in_process"] is False  # PyTorch runs in a child: numvae's memory is its own
    assert ours["median_gflops"] == pytest.approx(result["epoch_gflop"] / ours["median_seconds"])
    assert ours["fraction_of_peak"] == pytest.approx(result["floor_seconds"] / ours["median_seconds"])
    assert ours["final_test_loss"] == result["epochs"][-1]["numvae"]["test_loss"]


def test_digits_run_writes_complete_json_and_the_iwae_cost(tmp_path):
    proc, out = run_bench("--dataset", "digits", "--limit", "300", "--epochs", "2", "--iwae",
                          "--iwae-k", "7", "--profile", "40", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_common(result, epochs=2, input_dim=64)
    assert result["torch"] is None and result["median_ratio"] is None and result["plain_numpy"] is None
    iwae = result["iwae"]
    n_test = result["settings"]["test_images"]
    assert iwae["k"] == 7 and iwae["images"] == n_test and positive(iwae["seconds"])
    assert iwae["decoder_passes_per_second"] == pytest.approx(7 * n_test / iwae["seconds"])
    # log p(x) of grey levels under Bernoulli pixels is below 0, and the IWAE bound is not
    # below the ELBO of the same model (up to the noise of the one-sample test -ELBO)
    assert -result["numvae"]["final_test_loss"] - 1 < iwae["log_px"] < 0
    assert "matmul floor" in proc.stdout and "IWAE" in proc.stdout
    assert "cProfile" in proc.stdout and "linear_backward" in proc.stdout  # --profile's table


@pytest.mark.skipif(not os.environ.get("NUMVAE_DATA_DIR"), reason="NUMVAE_DATA_DIR is not set (MNIST)")
def test_mnist_subset_is_the_784_400_20_benchmark(tmp_path):
    proc, out = run_bench("--limit", "512", "--epochs", "1", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_common(result, epochs=1, input_dim=784)
    assert result["settings"]["dataset"] == "mnist" and result["settings"]["train_images"] == 512


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_compare_torch_adds_the_baseline_and_the_ratio(tmp_path):
    proc, out = run_bench("--dataset", "digits", "--limit", "256", "--epochs", "3", "--compare-torch",
                          tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_common(result, epochs=3, input_dim=64)
    theirs = result["torch"]
    assert positive(theirs["median_seconds"]) and positive(theirs["peak_rss_bytes"])
    assert positive(theirs["final_test_loss"]) and theirs["version"] and theirs["threads"] >= 1
    ratios = [r["numvae"]["seconds"] / r["torch"]["seconds"] for r in result["epochs"][1:]]
    assert result["median_ratio"] == pytest.approx(statistics.median(ratios))  # epochs 2 and 3
    torch_seconds = [r["torch"]["seconds"] for r in result["epochs"]]
    assert theirs["epoch_seconds"] == torch_seconds
    assert theirs["drift"] == pytest.approx(torch_seconds[-1] / torch_seconds[1])
    counts = theirs["subnormals"]  # PyTorch's are counted too (it does not flush them)
    assert set(counts) == {"optimizer_state", "gradients"} and min(counts.values()) >= 0
    # same model, same start, same data: after 3 short epochs the two agree to a few nats
    assert abs(theirs["final_test_loss"] - result["numvae"]["final_test_loss"]) < 5


def test_conv_arch_trains_the_convolutional_vae(tmp_path):
    proc, out = run_bench("--dataset", "digits", "--limit", "200", "--epochs", "2", "--arch", "conv",
                          tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_common(result, epochs=2, input_dim=64, arch="conv")
    assert result["settings"]["image_shape"] == [8, 8]  # the digits need no padding
    assert "conv VAE 8x8: conv 32, conv 64" in proc.stdout
    proc, _ = run_bench("--dataset", "digits", "--arch", "conv", "--compare-numpy", tmp_path=tmp_path)
    assert proc.returncode == 2 and "--compare-numpy is the fused MLP step" in proc.stderr


def test_plain_numpy_step_trains_to_numvaes_numbers(tmp_path):
    # benchmarks/plain_numpy_vae.py writes the whole step (forward, backward, Adam) as one
    # function, independently of numvae's layers; from the same start and the same draws
    # it must reach the same losses, epoch after epoch, up to float32 rounding.
    proc, out = run_bench("--dataset", "digits", "--limit", "300", "--epochs", "3", "--compare-numpy",
                          tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_common(result, epochs=3, input_dim=64)
    assert result["torch"] is None and result["median_ratio"] is None
    plain = result["plain_numpy"]
    assert positive(plain["median_seconds"]) and positive(plain["peak_rss_bytes"])
    for row in result["epochs"]:
        for loss in ("train_loss", "test_loss"):
            assert row["plain_numpy"][loss] == pytest.approx(row["numvae"][loss], rel=1e-5)
    ratios = [r["numvae"]["seconds"] / r["plain_numpy"]["seconds"] for r in result["epochs"][1:]]
    assert plain["median_ratio"] == pytest.approx(statistics.median(ratios))
    assert plain["subnormals"] == {"optimizer_state": 0, "gradients": 0}  # it flushes as numvae does
    assert plain["drift"] == pytest.approx(plain["epoch_seconds"][-1] / plain["epoch_seconds"][1])
    assert "plain NumPy" in proc.stdout


def test_missing_data_is_reported_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMVAE_DATA_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # an empty user cache
    empty = tmp_path / "empty"
    empty.mkdir()
    proc, out = run_bench("--data-dir", str(empty), "--epochs", "1", env=env, tmp_path=tmp_path)
    assert proc.returncode != 0 and not out.exists()
    assert "mnist not found" in proc.stderr and "NUMVAE_DATA_DIR" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_torch_is_reported_without_a_traceback(tmp_path):
    fake = tmp_path / "fake" / "torch"  # a 'torch' that cannot be imported, found first
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no PyTorch in this test')\n")
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    proc, out = run_bench("--dataset", "digits", "--limit", "100", "--epochs", "1", "--compare-torch",
                          env=env, tmp_path=tmp_path)
    assert proc.returncode != 0 and not out.exists()
    assert "--compare-torch needs PyTorch" in proc.stderr and "Traceback" not in proc.stderr


def test_variants_benchmark_times_the_four_models(tmp_path):
    out = tmp_path / "variants.json"
    command = [sys.executable, str(REPO / "benchmarks" / "bench_variants.py"), "--dataset", "digits",
               "--limit", "300", "--epochs", "2", "--json", str(out)]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert set(result["models"]) == {"vae", "cvae", "mixture", "iwae"}
    assert result["models"]["vae"]["median_ratio_to_vae"] == 1.0
    for name, model in result["models"].items():
        assert len(model["epoch_seconds"]) == 2 and all(positive(t) for t in model["epoch_seconds"])
        assert positive(model["median_ratio_to_vae"]), name
    for row in result["epochs"]:
        assert all(positive(row[name]["train_loss"]) for name in result["models"])


def test_step_benchmark_takes_turns_and_both_steps_compute_the_same_losses(tmp_path):
    # benchmarks/bench_step.py: numvae's step and the plain step in one process, in turns.
    out = tmp_path / "step.json"
    command = [sys.executable, str(REPO / "benchmarks" / "bench_step.py"), "--dataset", "digits",
               "--rounds", "5", "--steps", "3", "--warmup", "2", "--json", str(out)]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    s = result["settings"]
    assert (s["input_dim"], s["hidden"], s["latent"], s["batch_size"]) == (64, 400, 20, 128)
    assert (s["rounds"], s["steps"], s["warmup"]) == (5, 3, 2)
    numvae, plain = result["numvae"], result["plain"]
    assert len(numvae["round_ms"]) == len(plain["round_ms"]) == 5
    assert all(positive(t) for t in numvae["round_ms"] + plain["round_ms"])
    assert numvae["median_ms"] == pytest.approx(statistics.median(numvae["round_ms"]))
    ratios = [a / b for a, b in zip(numvae["round_ms"], plain["round_ms"], strict=True)]
    assert result["ratio"]["rounds"] == pytest.approx(ratios)
    assert result["ratio"]["median"] == pytest.approx(statistics.median(ratios))
    assert result["ratio"]["q1"] <= result["ratio"]["median"] <= result["ratio"]["q3"]
    # the same start and the same draws: after 17 steps each, the same loss to float32 rounding
    assert positive(numvae["last_loss"])
    assert plain["last_loss"] == pytest.approx(numvae["last_loss"], rel=1e-5)
    assert "numvae / plain per round" in proc.stdout
