"""Is numvae's training step within 5 % of the same step in plain NumPy? Timed turn by turn.

``bench_train.py --compare-numpy`` alternates whole epochs, seconds apart, and on a shared
machine the load of other jobs moves an epoch by 10-50 %: far more than the 5 % asked of
numvae's structure. This script runs numvae's step (``VAE.loss_and_grads`` and
``Adam.step``, what ``train_epoch`` calls) and the plain NumPy step
(``plain_numpy_vae.py``: the same arithmetic written out in one function) in one
process, taking turns every ``--steps`` steps for ``--rounds`` rounds, in the order
numvae, plain, then plain, numvae (so neither always goes first). It reports each one's
median time per step and the median and quartiles of the per-round ratio numvae / plain:
two turns a fraction of a second apart see nearly the same load.

Both start from the same parameters and draw the same batches and the same eps from
Generators with the same seed, so they compute the same losses up to float32 rounding,
which training amplifies: equal to 1e-5 over the first steps, a few tenths of a nat
apart after thousands (the last losses are printed side by side). PyTorch is not here:
it would bring its own thread pool into the process, next to NumPy's
(``bench_train.py --compare-torch`` runs it in a child process instead).

    python benchmarks/bench_step.py                        # MNIST, 40 rounds of 50 steps
    python benchmarks/bench_step.py --rounds 80 --json step.json
    python benchmarks/bench_step.py --dataset digits --rounds 4 --steps 5    # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's numvae

from bench_train import BATCH_SIZE, HIDDEN, LATENT, LR, cpu_name  # noqa: E402  (beside this script)
from plain_numpy_vae import Trainer  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402
from numvae.plumbing.atomic import atomic_write_json  # noqa: E402


class NumvaeStep:
    """numvae's step as train_epoch takes it: a batch, loss_and_grads (eps drawn inside), Adam."""

    def __init__(self, model, params, x: np.ndarray, seed: int):
        self.model, self.params, self.x = model, params, x
        self.optimizer = nv.Adam(lr=LR)
        self.state, self.grads = self.optimizer.init(params), params.zeros_like()
        self.rng, self.loss = np.random.default_rng(seed), float("nan")

    def run(self, steps: int) -> None:
        for _ in range(steps):
            batch = self.x[self.rng.integers(0, self.x.shape[0], BATCH_SIZE)]
            parts, _ = self.model.loss_and_grads(self.params, batch, rng=self.rng, out=self.grads)
            self.optimizer.step(self.params, self.grads, self.state)
            self.loss = parts.loss


class PlainStep:
    """The plain NumPy step, given the same batch and the same eps, drawn in the same order."""

    def __init__(self, params, x: np.ndarray, seed: int):
        arrays = {name: params[name].copy() for name in params.keys()}
        self.trainer = Trainer(arrays, x, x[:1], batch_size=BATCH_SIZE, lr=LR, seed=seed)
        self.x, self.rng, self.loss = x, np.random.default_rng(seed), float("nan")

    def run(self, steps: int) -> None:
        for _ in range(steps):
            batch = self.x[self.rng.integers(0, self.x.shape[0], BATCH_SIZE)]
            eps = self.rng.standard_normal((BATCH_SIZE, LATENT), dtype=np.float32)
            self.loss = self.trainer.step(batch, eps)


def timed(step, steps: int) -> float:
    """Seconds per step over ``steps`` steps."""
    start = time.perf_counter()
    step.run(steps)
    return (time.perf_counter() - start) / steps


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile), NumPy's default (linear) interpolation."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return float(q1), float(median), float(q3)


def benchmark(args) -> dict:
    x = nv.load_dataset(args.dataset, "train", data_dir=args.data_dir, download=False).x.astype(np.float32)
    model = nv.VAE(nv.ModelConfig(x.shape[1], hidden=(HIDDEN,), latent=LATENT))
    params = model.init_params(np.random.default_rng(args.seed))
    draws = args.seed + 1  # one seed for both Generators: the same batches and eps, in the same order
    steps = {"numvae": NumvaeStep(model, params, x, draws), "plain": PlainStep(params, x, draws)}
    for step in steps.values():  # caches, allocator and BLAS threads warm before any turn is timed
        step.run(args.warmup)
    seconds = {name: [] for name in steps}
    for r in range(args.rounds):
        order = ("numvae", "plain") if r % 2 == 0 else ("plain", "numvae")
        for name in order:
            seconds[name].append(timed(steps[name], args.steps))
    ratios = [a / b for a, b in zip(seconds["numvae"], seconds["plain"], strict=True)]
    q1, median, q3 = quartiles(ratios)
    return {
        "settings": {"dataset": args.dataset, "input_dim": x.shape[1], "hidden": HIDDEN, "latent": LATENT,
                     "batch_size": BATCH_SIZE, "lr": LR, "rounds": args.rounds, "steps": args.steps,
                     "warmup": args.warmup, "seed": args.seed},
        "machine": {"cpu": cpu_name(), "numpy": np.__version__},
        **{name: {"median_ms": 1e3 * statistics.median(s), "round_ms": [1e3 * t for t in s],
                  "last_loss": steps[name].loss} for name, s in seconds.items()},
        "ratio": {"median": median, "q1": q1, "q3": q3, "rounds": ratios},
    }


def report(result: dict) -> None:
    s, ratio = result["settings"], result["ratio"]
    print(f"numvae's step against the plain NumPy step: {s['dataset']} {s['input_dim']}-{s['hidden']}-"
          f"{s['latent']}, batch {s['batch_size']}; {s['rounds']} rounds of {s['steps']} steps each, "
          f"taking turns; {result['machine']['cpu']}, numpy {result['machine']['numpy']}")
    for name in ("numvae", "plain"):
        figures = result[name]
        print(f"{name:>7}  {figures['median_ms']:7.3f} ms/step (median)  "
              f"last loss {figures['last_loss']:.4f}")
    print(f"numvae / plain per round: median {ratio['median']:.3f}, quartiles {ratio['q1']:.3f} - "
          f"{ratio['q3']:.3f}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time numvae's training step against the same step in plain NumPy, in turns.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python benchmarks/bench_step.py\n"
               "  python benchmarks/bench_step.py --rounds 80 --json step.json\n"
               "  python benchmarks/bench_step.py --dataset digits --rounds 4 --steps 5")
    parser.add_argument("--rounds", type=positive_int, default=40, help="rounds of two turns (default 40)")
    parser.add_argument("--steps", type=positive_int, default=50, help="steps per turn (default 50)")
    parser.add_argument("--warmup", type=positive_int, default=100,
                        help="untimed steps of each before the first turn (default 100)")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "digits"),
                        help="mnist (the benchmark) or digits (8x8, embedded: a smoke test anywhere)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ (default: $NUMVAE_DATA_DIR, then numvae's cache)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the parameters and of the draws (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = benchmark(args)
    except FileNotFoundError as err:
        print(f"bench_step: {args.dataset} not found: pass --data-dir DIR or set NUMVAE_DATA_DIR ({err})",
              file=sys.stderr)
        return 2
    report(result)
    if args.json:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
