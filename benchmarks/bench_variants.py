"""What does each of the next chapter's models cost per epoch, next to the plain VAE?

Trains four of numvae's models on MNIST, the benchmark VAE's network (784-400-20, ReLU,
log-variance head, Bernoulli logits on grey levels, batch 128, Adam 1e-3, float32):

    vae       the plain VAE (the yardstick)
    cvae      the conditional VAE: the one-hot label appended to encoder and decoder inputs
    mixture   a learned prior of 10 Gaussians, the KL estimated from the drawn z
    iwae      the importance-weighted objective with k = 5 draws per image

one epoch each in turn, round after round, so that all see the same machine load, and
reports every epoch's time and the median (over epochs 2 to N) of each model's time
relative to the plain VAE's. The target: cvae and mixture within 1.5x; the IWAE decodes
k = 5 times as many codes, so its cost is stated, not bounded.

    python benchmarks/bench_variants.py --data-dir /data
    python benchmarks/bench_variants.py --epochs 3 --json variants.json
    python benchmarks/bench_variants.py --dataset digits --limit 500 --epochs 2    # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's numvae

from bench_train import BATCH_SIZE, HIDDEN, LATENT, LR, BenchmarkError, cpu_name, drift, steady  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402
from numvae.plumbing.atomic import atomic_write_json  # noqa: E402

COMPONENTS, K = 10, 5


def configs(input_dim: int, classes: int) -> dict[str, nv.ModelConfig]:
    base = nv.ModelConfig(input_dim, hidden=(HIDDEN,), latent=LATENT)
    return {"vae": base, "cvae": replace(base, classes=classes),
            "mixture": replace(base, prior="mixture", components=COMPONENTS),
            "iwae": replace(base, objective="iwae", k=K)}


class Run:
    """One model's parameters, optimizer state and Generator, trained an epoch at a time."""

    def __init__(self, config: nv.ModelConfig, train, seed: int):
        self.model = nv.VAE(config)
        self.rng = np.random.default_rng(seed)
        self.params = self.model.init_params(self.rng)
        self.optimizer = nv.Adam(lr=LR)
        self.state = self.optimizer.init(self.params)
        self.grads = self.params.zeros_like()
        self.x, self.y = train.x, train.y if config.classes else None

    def epoch(self) -> dict:
        t0 = time.perf_counter()
        stats = nv.train_epoch(self.model, self.params, self.x, self.optimizer, self.state, self.rng,
                               batch_size=BATCH_SIZE, grads=self.grads, y=self.y)
        return {"seconds": time.perf_counter() - t0, "train_loss": stats["loss"]}


def benchmark(args) -> dict:
    try:
        train = nv.load_dataset(args.dataset, "train", data_dir=args.data_dir, download=False)
    except FileNotFoundError as err:
        raise BenchmarkError(f"{args.dataset} not found: pass --data-dir DIR or set NUMVAE_DATA_DIR "
                             f"({err})") from None
    train = replace(train, x=train.x[:args.limit], y=train.y[:args.limit])
    runs = {name: Run(config, train, args.seed)
            for name, config in configs(train.x.shape[1], int(train.y.max()) + 1).items()}
    print(f"numvae {nv.__version__}, numpy {np.__version__}; {os.cpu_count()} cores; {cpu_name()}")
    print(f"{args.dataset} {len(train.x)} train images, {train.x.shape[1]}-{HIDDEN}-{LATENT}, batch "
          f"{BATCH_SIZE}; cvae: {runs['cvae'].model.config.classes} classes; mixture: {COMPONENTS} "
          f"components; iwae: k = {K}")
    print(f"{'epoch':>5}" + "".join(f"  {name + ' s':>10}" for name in runs))
    rows = []
    for epoch in range(1, args.epochs + 1):
        row = {"epoch": epoch, **{name: run.epoch() for name, run in runs.items()}}
        rows.append(row)
        print(f"{epoch:5d}" + "".join(f"  {row[name]['seconds']:10.2f}" for name in runs), flush=True)
    result = {"settings": {"dataset": args.dataset, "train_images": len(train.x), "epochs": args.epochs,
                           "hidden": HIDDEN, "latent": LATENT, "batch_size": BATCH_SIZE, "lr": LR,
                           "components": COMPONENTS, "k": K, "seed": args.seed,
                           "steady_epochs": [r["epoch"] for r in steady(rows)]},
              "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "numpy": np.__version__},
              "epochs": rows, "models": {}}
    plain = [r["vae"]["seconds"] for r in steady(rows)]
    print(f"\nmedians over epochs {result['settings']['steady_epochs'][0]}-{args.epochs}:")
    for name in runs:
        seconds = [r[name]["seconds"] for r in rows]
        ratios = [r[name]["seconds"] / p for r, p in zip(steady(rows), plain, strict=True)]
        median = statistics.median([r[name]["seconds"] for r in steady(rows)])
        result["models"][name] = {"epoch_seconds": seconds, "median_seconds": median,
                                  "median_ratio_to_vae": statistics.median(ratios), "drift": drift(seconds)}
        print(f"  {name:8} {median:7.2f} s/epoch   x{statistics.median(ratios):.2f} the plain VAE's")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Time an epoch of numvae's VAE, CVAE, mixture-prior VAE and IWAE, interleaved.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python benchmarks/bench_variants.py --data-dir /data\n"
               "  python benchmarks/bench_variants.py --dataset digits --limit 500 --epochs 2")
    parser.add_argument("--epochs", type=positive_int, default=4, help="rounds of epochs (default 4)")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "digits"), help="default: mnist")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ (default: $NUMVAE_DATA_DIR, then numvae's cache)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use only the first N training images")
    parser.add_argument("--seed", type=int, default=0, help="seed of every Generator (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    try:
        result = benchmark(args)
    except BenchmarkError as err:
        print(f"bench_variants: {err}", file=sys.stderr)
        return 2
    if args.json:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
