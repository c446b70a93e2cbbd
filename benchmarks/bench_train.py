"""How fast does numvae train, next to PyTorch and next to what the machine can do?

Trains the classic MNIST VAE -- 784-400-20, ReLU, log-variance head, Bernoulli logits on
grey levels (no binarization), batch 128, Adam lr 1e-3, float32, fixed seed -- with
numvae's own ``train_epoch`` and prints, for every epoch, its wall time, the test -ELBO,
the GFLOP/s of matrix products achieved and their fraction of the machine's float32
matrix-multiply throughput (measured here, on a large square product). The floor is
the time the epoch's matrix products would take at that throughput; "products alone" is
the time they take timed on their own at the step's shapes.

    python benchmarks/bench_train.py                            # 5 epochs of numvae
    python benchmarks/bench_train.py --epochs 10 --compare-torch --json bench.json
    python benchmarks/bench_train.py --compare-numpy             # + the plain NumPy step
    python benchmarks/bench_train.py --iwae                      # + IWAE (k = 1000) cost
    python benchmarks/bench_train.py --limit 2000 --epochs 1     # a quick smoke run

--compare-torch also trains the identical PyTorch model (same starting parameters),
alternating with numvae epoch by epoch, so that both see the same machine load; the
median of the per-epoch time ratios numvae/torch is reported. --compare-numpy does the
same with the step written as one plain NumPy function (plain_numpy_vae.py), which
shows what numvae's structure costs. Each baseline runs in a child process, so the peak
memory reported for numvae is numvae's alone.

Steady state: medians and ratios are over epochs 2 to N (the first one warms up), the
per-epoch times of every implementation are all in --json, and so is each one's drift,
the last epoch's time over the second's: subnormal numbers piling up in Adam's state
once made every epoch after the first 1.6 times slower on an Intel Xeon (see
numvae/subnormals.py). At the end, the subnormal numbers left in each implementation's
optimizer state and gradients are counted (numvae's must be 0).

Data: MNIST from --data-dir, or from $NUMVAE_DATA_DIR (a folder holding mnist/), never
downloaded unless --download is given. Absolute times depend on the machine and on
what else it is running: compare ratios, and re-run on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import resource
except ImportError:  # Windows: no getrusage, and no memory figure
    resource = None

# The numvae beside this script, even when another copy is pip-installed: the benchmark
# measures the code of its own checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402
from numvae.plumbing.atomic import atomic_write_json  # noqa: E402
from numvae.subnormals import count_subnormals  # noqa: E402

HIDDEN, LATENT, BATCH_SIZE, LR = 400, 20, 128, 1e-3
# --arch conv: the lecture's convolutional VAE on MNIST padded to 32x32 (numvae/conv_net.py):
# conv 32, conv 64 (3x3, stride 2), a dense layer of CONV_HIDDEN, the same latent, and back.
CONV_HIDDEN, CONV_IMAGE = 256, (32, 32)
MIB = 2**20


class BenchmarkError(Exception):
    """A problem the user can fix (missing data, missing PyTorch): reported without a traceback."""


# ----- the machine's limit and the work of one epoch ---------------------------------------
def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an (n, n) @ (n, n) product, 2 n^3 operations each."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # warm up: threads started, pages touched
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def epoch_matmul_flops(model: nv.VAE, n_train: int, batch_size: int) -> float:
    """Operations in one epoch's matrix products: 2 * batch * fan_in * fan_out per product.

    Each Linear layer does three products per step -- forward x W, backward x^T G and
    G W^T -- except the first encoder layer, which skips G W^T (nobody needs dL/dx).
    A convolution (--arch conv) does the same three with its multiply-adds
    (``nv.conv2d_multiply_adds``), the first one again without dL/dx.
    Element-wise work and the optimizer are not counted: they are what the floor leaves out.
    """
    config, per_example = model.config, 0
    first = "enc.conv0.W" if config.arch == "conv" else "enc.0.W"
    for name, shape in model.param_shapes().items():
        if name.endswith(".W"):
            products = 2 if name == first else 3
            per_example += products * 2 * multiply_adds(name, shape, config)
    return float(per_example * n_train)


def multiply_adds(name: str, shape: tuple, config: nv.ModelConfig) -> int:
    """Multiply-adds of one example's forward pass through the layer holding weight ``name``."""
    if len(shape) == 2:
        return shape[0] * shape[1]
    h, w = config.image_shape
    c1, c2 = config.conv_channels
    inputs = {"enc.conv0.W": (1, 1, h, w), "enc.conv1.W": (1, c1, h // 2, w // 2),
              "dec.deconv0.W": (1, c2, h // 4, w // 4), "dec.deconv1.W": (1, c1, h // 2, w // 2)}[name]
    if name.startswith("enc."):
        return nv.conv2d_multiply_adds(inputs, shape, stride=2, padding=1)
    return nv.conv_transpose2d_multiply_adds(inputs, shape, stride=2, padding=1, output_padding=1)


def products_alone_seconds(model: nv.VAE, n_train: int, batch_size: int, steps: int = 40) -> float:
    """One epoch's matrix products (those ``epoch_matmul_flops`` counts) timed alone.

    The products of one step, at its own shapes -- x W, x^T G and G W^T per layer on a
    batch -- on random float32 arrays, with nothing between them: the best of three runs
    of ``steps`` steps, scaled to the n_train / batch_size steps of an epoch. What the
    training step would take if everything but its matrix products cost nothing.
    """
    rng = np.random.default_rng(0)
    layers = []
    for name, shape in model.param_shapes().items():
        if name.endswith(".W"):
            fan_in, fan_out = shape
            x, g = (rng.standard_normal((batch_size, k), dtype=np.float32) for k in (fan_in, fan_out))
            w = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
            layers.append((name == "enc.0.W", x, w, g, np.empty_like(g), np.empty_like(w), np.empty_like(x)))

    def one_step():
        for first, x, w, g, out, dw, dx in layers:
            np.matmul(x, w, out=out)
            np.matmul(x.T, g, out=dw)
            if not first:  # the first layer's input is the data: no dL/dx
                np.matmul(g, w.T, out=dx)

    one_step()  # warm up
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(steps):
            one_step()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best * n_train / batch_size


# ----- data ----------------------------------------------------------------------------------
def load_data(args) -> tuple[np.ndarray, np.ndarray]:
    """(train x, test x) float32, the first --limit images of each split (all by default);
    for --arch conv zero-padded to 32x32 (the digits, 8x8 already a multiple of 4, stay)."""
    try:
        train = nv.load_dataset(args.dataset, "train", data_dir=args.data_dir, download=args.download)
        test = nv.load_dataset(args.dataset, "test", data_dir=args.data_dir, download=args.download)
    except FileNotFoundError as err:
        raise BenchmarkError(
            f"{args.dataset} not found, so there is nothing to benchmark. Pass --data-dir DIR or set "
            f"NUMVAE_DATA_DIR to a folder holding {args.dataset}/ (or add --download).\n({err})"
        ) from None
    target = pad_target(args)
    if target is not None:
        train, test = nv.data.pad_dataset(train, target), nv.data.pad_dataset(test, target)
    limit = args.limit
    return train.x[:limit], test.x[:limit]


def pad_target(args) -> tuple[int, int] | None:
    """The (height, width) --arch conv pads to: 32x32 for MNIST, nothing for the 8x8 digits."""
    return CONV_IMAGE if args.arch == "conv" and args.dataset == "mnist" else None


def describe_model(config: nv.ModelConfig) -> str:
    """'VAE 784-400-20', or 'conv VAE 32x32: conv 32, conv 64, 256-20'."""
    if config.arch == "mlp":
        return f"VAE {'-'.join(map(str, [config.input_dim, *config.hidden, config.latent]))}"
    (h, w), (c1, c2) = config.image_shape, config.conv_channels
    dense = "-".join(map(str, [*config.hidden, config.latent]))
    return f"conv VAE {h}x{w}: conv {c1}, conv {c2} (3x3, stride 2), {dense}"


def model_config(args, input_dim: int) -> nv.ModelConfig:
    """The benchmark's model: the 784-400-20 MLP VAE, or the convolutional VAE (--arch conv)."""
    if args.arch == "mlp":
        return nv.ModelConfig(input_dim, hidden=(HIDDEN,), latent=LATENT)
    side = int(round(input_dim ** 0.5))
    return nv.ModelConfig(input_dim, hidden=(CONV_HIDDEN,), latent=LATENT, arch="conv",
                          image_shape=(side, side))


# ----- the two trainers ----------------------------------------------------------------------
class NumvaeRun:
    """numvae's own training loop (``nv.train_epoch``) on one model, as a user would run it."""

    def __init__(self, train_x, test_x, seed: int, config: nv.ModelConfig):
        self.model = nv.VAE(config)
        self.rng = np.random.default_rng(seed)
        self.eval_rng = np.random.default_rng(seed + 1)  # evaluation never shifts training's draws
        self.params = self.model.init_params(self.rng, dtype=np.float32)
        self.optimizer = nv.Adam(lr=LR)
        self.opt_state = self.optimizer.init(self.params)
        self.grads = self.params.zeros_like()
        self.train_x, self.test_x = train_x, test_x

    def epoch(self) -> dict:
        t0 = time.perf_counter()
        stats = nv.train_epoch(self.model, self.params, self.train_x, self.optimizer, self.opt_state,
                               self.rng, batch_size=BATCH_SIZE, grads=self.grads)
        return {"seconds": time.perf_counter() - t0, "train_loss": stats["loss"]}

    def evaluate(self) -> float:
        return nv.evaluate(self.model, self.params, self.test_x, self.eval_rng)["loss"]

    def subnormals(self) -> dict:
        """Subnormal numbers in Adam's m and v and in the last step's gradients (must be 0)."""
        state = sum(count_subnormals(a) for a in self.opt_state.values() if isinstance(a, np.ndarray))
        return {"optimizer_state": state, "gradients": count_subnormals(self.grads.flat)}


class BaselineRun:
    """A baseline (``torch_vae`` or ``plain_numpy_vae``) in a child process (``child.serve``),
    started from numvae's parameters and driven epoch by epoch."""

    def __init__(self, args, baseline: str, params: nv.ParamDict, seed: int, options: dict | None = None):
        import child  # beside this script

        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of ours in it
        self.conn, child_conn = ctx.Pipe()
        data = {"name": args.dataset, "data_dir": args.data_dir, "download": False, "limit": args.limit,
                "pad_to": pad_target(args)}
        self.process = ctx.Process(target=child.serve, daemon=True,
                                   args=(child_conn, baseline, data, BATCH_SIZE, LR, seed))
        self.process.start()
        hello = self.conn.recv()
        if "error" in hello:  # only PyTorch can be missing: plain NumPy needs what numvae needs
            self.process.join()
            raise BenchmarkError(f"--compare-torch needs PyTorch: PyTorch is not importable "
                                 f"({hello['error']}). Install it (pip install torch) or leave out "
                                 "--compare-torch.")
        self.version, self.threads = hello["version"], hello["threads"]
        params = {name: np.array(value) for name, value in params.items()}
        self.conn.send({"params": params, "options": options or {}})  # the same start
        self.conn.recv()  # the child has built its model: from here on it only waits

    def epoch(self) -> dict:
        self.conn.send("epoch")
        return self.conn.recv()

    def evaluate(self) -> float:
        self.conn.send("evaluate")
        return self.conn.recv()["test_loss"]

    def subnormals(self) -> dict:
        self.conn.send("subnormals")
        return self.conn.recv()

    def stop(self) -> int:
        """End the child; return its peak resident memory in bytes."""
        self.conn.send("stop")
        peak = self.conn.recv()["peak_rss_bytes"]
        self.process.join()
        return peak


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def cpu_name() -> str:
    """The processor's model name where the system says it (Linux), else the architecture."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_bytes() -> int | None:
    """This process's peak resident memory so far, by getrusage (None on Windows)."""
    if resource is None:
        return None
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit


def mib(n_bytes: int | None) -> str:
    return "n/a" if n_bytes is None else f"{n_bytes / MIB:.0f} MiB"


# ----- IWAE cost -----------------------------------------------------------------------------
def iwae_cost(run: NumvaeRun, k: int, seed: int) -> dict:
    """Time ``nv.iwae_log_px`` with k samples on the whole test set."""
    x = run.test_x
    t0 = time.perf_counter()
    log_px = nv.iwae_log_px(run.model, run.params, x, k, np.random.default_rng(seed + 2))
    seconds = time.perf_counter() - t0
    return {"k": k, "images": int(x.shape[0]), "seconds": seconds,
            "decoder_passes_per_second": k * x.shape[0] / seconds,
            "log_px": float(np.mean(log_px)), "peak_rss_bytes": peak_rss_bytes()}


# ----- the run -------------------------------------------------------------------------------
BASELINES = {"torch": "PyTorch", "plain_numpy": "plain NumPy"}


def start_baselines(args, run: NumvaeRun) -> dict[str, BaselineRun]:
    """The child processes asked for, each holding a copy of numvae's starting point."""
    baselines = {}
    if args.compare_torch:
        baselines["torch"] = BaselineRun(args, "torch_vae", run.params, args.seed,
                                         {"image_shape": run.model.config.image_shape})
    if args.compare_numpy:
        # The plain step also continues numvae's Generator from where it is now (after
        # the initial parameters), so it draws the same permutations and eps.
        baselines["plain_numpy"] = BaselineRun(args, "plain_numpy_vae", run.params, args.seed,
                                               {"rng_state": run.rng.bit_generator.state})
    return baselines


def benchmark(args) -> dict:
    if args.compare_numpy and args.arch == "conv":
        raise BenchmarkError("--compare-numpy is the fused MLP step (plain_numpy_vae.py); with --arch conv "
                             "compare with PyTorch (--compare-torch)")
    if args.compare_torch and not torch_available():
        raise BenchmarkError("--compare-torch needs PyTorch, which is not installed here. "
                             "Install it (pip install torch) or leave out --compare-torch.")
    # First, while the process is small (its 48 MB of matrices must not count as numvae's
    # memory) and before any baseline starts (nothing else of ours is running).
    peak_gflops = matmul_gflops()
    train_x, test_x = load_data(args)
    loading_peak = peak_rss_bytes()
    config = model_config(args, train_x.shape[1])
    run = NumvaeRun(train_x, test_x, args.seed, config)
    flops = epoch_matmul_flops(run.model, train_x.shape[0], BATCH_SIZE)
    # products alone: the MLP's five big products; a convolution is not one plain product
    products_alone = None
    if args.arch == "mlp":  # the MLP's products; a convolution is not one plain product
        products_alone = products_alone_seconds(run.model, train_x.shape[0], BATCH_SIZE)
    baselines = start_baselines(args, run)

    torch_run = baselines.get("torch")
    print(f"numvae {nv.__version__}, numpy {np.__version__}"
          + (f", torch {torch_run.version} ({torch_run.threads} threads)" if torch_run else "")
          + f"; {os.cpu_count()} cores; {cpu_name()}")
    print(f"{describe_model(config)}, {args.dataset} {train_x.shape[0]} train / "
          f"{test_x.shape[0]} test, batch {BATCH_SIZE}, Adam {LR:g}, float32, seed {args.seed}")
    alone = "" if products_alone is None else (f"; the same products timed alone at the step's shapes: "
                                               f"{products_alone:.2f} s")
    print(f"machine float32 matmul: {peak_gflops:.1f} GFLOP/s; one epoch = {flops / 1e9:.1f} GFLOP "
          f"of matrix products -> floor {flops / 1e9 / peak_gflops:.2f} s per epoch{alone}")
    header = f"{'epoch':>5}  {'numvae s':>8}  {'GFLOP/s':>7}  {'of peak':>7}  {'test -ELBO':>10}"
    for key in baselines:
        short = "torch" if key == "torch" else "numpy"
        header += f"  {short + ' s':>8}  {'test -ELBO':>10}  {'ratio':>5}"
    print(header)

    rows = []
    for epoch in range(1, args.epochs + 1):
        ours = run.epoch()
        ours["test_loss"] = run.evaluate()
        row = {"epoch": epoch, "numvae": ours}
        line = (f"{epoch:5d}  {ours['seconds']:8.2f}  {flops / ours['seconds'] / 1e9:7.1f}  "
                f"{flops / ours['seconds'] / 1e9 / peak_gflops:7.0%}  {ours['test_loss']:10.3f}")
        for key, baseline in baselines.items():  # each takes its turn right after numvae's epoch
            theirs = baseline.epoch()
            theirs["test_loss"] = baseline.evaluate()
            row[key] = theirs
            line += (f"  {theirs['seconds']:8.2f}  {theirs['test_loss']:10.3f}  "
                     f"{ours['seconds'] / theirs['seconds']:5.2f}")
        rows.append(row)
        print(line, flush=True)
    numvae_peak = peak_rss_bytes()
    # Measured again after training and the best kept: a busy moment at the start must
    # not lower the peak and so flatter every "of peak" figure.
    peak_gflops = max(peak_gflops, matmul_gflops())

    result = summarise(args, rows, peak_gflops, flops, numvae_peak, train_x, test_x, config)
    result["products_alone_seconds"] = products_alone
    result["numvae"]["peak_rss_after_loading_bytes"] = loading_peak
    # The memory figure is numvae's only if PyTorch stayed out of this process.
    result["numvae"]["torch_in_process"] = "torch" in sys.modules
    result["numvae"]["subnormals"] = run.subnormals()
    for key, baseline in baselines.items():
        result[key]["version"] = baseline.version
        result[key]["threads"] = baseline.threads
        result[key]["subnormals"] = baseline.subnormals()
        result[key]["peak_rss_bytes"] = baseline.stop()
    print_summary(result)
    if args.iwae:
        print(f"IWAE: log p(x) estimate with k = {args.iwae_k} on {test_x.shape[0]} test images ...",
              flush=True)
        result["iwae"] = iwae_cost(run, args.iwae_k, args.seed)
        cost = result["iwae"]
        print(f"IWAE: {cost['seconds']:.1f} s ({cost['decoder_passes_per_second']:.3g} decoder passes/s), "
              f"mean log p(x) >= {cost['log_px']:.3f} nats, peak memory "
              f"{mib(cost['peak_rss_bytes'])}")
    if args.profile:
        profile_epoch(run, args.profile)
    return result


def profile_epoch(run: NumvaeRun, top: int) -> None:
    """One more numvae epoch under cProfile: where the time goes, the costliest functions first."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run.epoch)
    print(f"\none epoch under cProfile (which slows the many small calls), top {top} by own time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def steady(rows: list) -> list:
    """The rows of the steady state: epochs 2 to N (epoch 1 pays for warm-up: first-touch
    page faults, BLAS thread start, caches), or the one row of a one-epoch run."""
    return rows[1:] if len(rows) > 1 else rows


def drift(seconds: list[float]) -> float | None:
    """Last epoch's time / second epoch's: above 1 when epochs slow down as training goes
    on (subnormal numbers piling up did that); None with fewer than 3 epochs."""
    return seconds[-1] / seconds[1] if len(seconds) >= 3 else None


def summarise(args, rows, peak_gflops, flops, numvae_peak, train_x, test_x, config) -> dict:
    """The JSON record: settings, machine, per-epoch rows, steady-state medians and drift.

    Medians and ratios are over epochs 2 to N (``steady``); ``epoch_seconds`` lists every
    epoch of each implementation.
    """
    ours_all = [r["numvae"]["seconds"] for r in rows]
    ours = [r["numvae"]["seconds"] for r in steady(rows)]
    result = {
        "settings": {"dataset": args.dataset, "train_images": int(train_x.shape[0]),
                     "test_images": int(test_x.shape[0]), "input_dim": int(train_x.shape[1]),
                     "arch": config.arch, "image_shape": config.image_shape,
                     "hidden": config.hidden[0], "latent": config.latent, "batch_size": BATCH_SIZE, "lr": LR,
                     "dtype": "float32", "binarize": "none", "epochs": args.epochs, "seed": args.seed,
                     "steady_epochs": [r["epoch"] for r in steady(rows)]},
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "numpy": np.__version__,
                    "python": platform.python_version(),
                    "numvae_path": str(Path(nv.__file__).parent),
                    "matmul_gflops": peak_gflops},
        "epoch_gflop": flops / 1e9,
        "floor_seconds": flops / 1e9 / peak_gflops,
        "epochs": rows,
        "numvae": {"version": nv.__version__, "epoch_seconds": ours_all,
                   "median_seconds": statistics.median(ours),
                   "median_gflops": flops / 1e9 / statistics.median(ours),
                   "fraction_of_peak": flops / 1e9 / statistics.median(ours) / peak_gflops,
                   "drift": drift(ours_all),
                   "final_test_loss": rows[-1]["numvae"]["test_loss"], "peak_rss_bytes": numvae_peak},
        "torch": None,
        "plain_numpy": None,
        "median_ratio": None,
        "iwae": None,
    }
    for key in BASELINES:
        if key in rows[0]:
            theirs_all = [r[key]["seconds"] for r in rows]
            theirs = [r[key]["seconds"] for r in steady(rows)]
            ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
            result[key] = {"epoch_seconds": theirs_all, "median_seconds": statistics.median(theirs),
                           "drift": drift(theirs_all),
                           "final_test_loss": rows[-1][key]["test_loss"],
                           "median_ratio": statistics.median(ratios)}
    if result["torch"]:
        result["median_ratio"] = result["torch"]["median_ratio"]  # the figure: numvae / PyTorch
    return result


def print_summary(result: dict) -> None:
    n, floor = result["numvae"], result["floor_seconds"]
    epochs = result["settings"]["steady_epochs"]
    print(f"\nmedians over epochs {epochs[0]}-{epochs[-1]}; matmul peak "
          f"{result['machine']['matmul_gflops']:.1f} GFLOP/s (best of before and after training)")
    print(f"{'':14}{'s/epoch':>8}  {'of peak':>7}  {'drift':>5}  {'test -ELBO':>10}  {'peak memory':>11}  "
          f"subnormals (optimizer state, gradients)")

    def row(label, t, fraction):
        drift_text = "n/a" if t["drift"] is None else f"{t['drift']:.2f}"
        sub = t.get("subnormals") or {}
        print(f"{label:14}{t['median_seconds']:8.2f}  {fraction:7.0%}  {drift_text:>5}  "
              f"{t['final_test_loss']:10.3f}  {mib(t['peak_rss_bytes']):>11}  "
              f"{sub.get('optimizer_state', 'n/a')}, {sub.get('gradients', 'n/a')}")

    row("numvae", n, n["fraction_of_peak"])
    baselines = [(label, result[key]) for key, label in BASELINES.items() if result[key]]
    for label, t in baselines:
        row(label, t, floor / t["median_seconds"])
    alone = result["products_alone_seconds"]
    if alone is not None:
        print(f"{'products alone':14}{alone:8.2f}  {floor / alone:7.0%}")
    print(f"{'matmul floor':14}{floor:8.2f}  {1:7.0%}")
    print(f"drift = last epoch's time / second epoch's; numvae's peak memory: {mib(n['peak_rss_bytes'])} "
          f"({mib(n['peak_rss_after_loading_bytes'])} right after loading the data)")
    for label, t in baselines:
        print(f"median epoch-time ratio numvae/{label}: {t['median_ratio']:.2f}; test -ELBO "
              f"difference numvae - {label}: {n['final_test_loss'] - t['final_test_loss']:+.3f} nats")


# ----- command line --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time numvae's training of the 784-400-20 MNIST VAE (or, with --arch conv, the "
                    "lecture's convolutional VAE on 32x32 MNIST) against PyTorch and the machine's "
                    "matrix-multiply throughput.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python benchmarks/bench_train.py --data-dir /data\n"
               "  python benchmarks/bench_train.py --epochs 10 --compare-torch --json bench.json\n"
               "  python benchmarks/bench_train.py --epochs 3 --compare-numpy\n"
               "  python benchmarks/bench_train.py --iwae --iwae-k 1000\n"
               "  python benchmarks/bench_train.py --epochs 1 --profile 15\n"
               "  python benchmarks/bench_train.py --arch conv --compare-torch --json conv.json\n"
               "  python benchmarks/bench_train.py --limit 1000 --epochs 1 --json smoke.json",
    )
    parser.add_argument("--epochs", type=positive_int, default=5,
                        help="training epochs (default 5: medians and ratios are over epochs 2 to N)")
    parser.add_argument("--compare-torch", action="store_true",
                        help="also train the same model in PyTorch, alternating epochs")
    parser.add_argument("--compare-numpy", action="store_true",
                        help="also train the same step written as one plain NumPy function "
                             "(benchmarks/plain_numpy_vae.py), alternating epochs")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--iwae", action="store_true",
                        help="after training, time the IWAE log p(x) estimate on the test set")
    parser.add_argument("--iwae-k", type=positive_int, default=1000, metavar="K",
                        help="IWAE samples per image (1000)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use only the first N images of each split (quick runs, tests)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ (default: $NUMVAE_DATA_DIR, then numvae's cache)")
    parser.add_argument("--download", action="store_true", help="download MNIST if it is not found")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "digits"),
                        help="mnist (the benchmark) or digits (8x8, embedded: a smoke test anywhere)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every Generator (default 0)")
    parser.add_argument("--arch", choices=("mlp", "conv"), default="mlp",
                        help="mlp: the 784-400-20 VAE (default); conv: the lecture's convolutional VAE, "
                             f"MNIST padded to 32x32, conv 32, conv 64, dense {CONV_HIDDEN}, latent {LATENT}")
    parser.add_argument("--profile", type=positive_int, metavar="N", default=None,
                        help="finally profile one more epoch and print its N costliest functions")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = benchmark(args)
    except BenchmarkError as err:
        print(f"bench_train: {err}", file=sys.stderr)
        return 2
    if args.json:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
