"""numvae's step against the plain NumPy step in instructions, a count no other job can move.

``bench_step.py`` times the two steps in turns, and on a shared machine its per-round
ratios still spread 5 % either side of the median: about the size of the difference it is
asked to resolve. This script counts instead. It runs each step under valgrind's callgrind
tool, which executes the program on a simulated processor and counts every machine
instruction it executes: the same program on the same input gives the same count whatever
else the machine is doing. Each step runs twice, for ``--warmup`` steps and for
``--warmup + --steps`` steps, and the difference of the two counts divided by ``--steps`` is
the count of one step, with Python's start-up, the imports and the data loading cancelled
out. It reports both totals, their ratio, and the functions where the two steps differ
most (the input checks' ``FLOAT_isfinite``, say), per step.

Instructions are not time. A matrix product's fused multiply-adds retire several per
cycle; the interpreter's dictionary lookups and a pass over memory retire far fewer; a
cache miss costs no instruction at all. So the count answers "how much more work does
numvae's structure do", exactly, and leaves "how long does that work take" to bench_step.

The steps are bench_step's (``NumvaeStep``, ``PlainStep``): the same batches, the same
eps, the same numbers. OpenBLAS runs on one thread here: valgrind runs a program's threads
one at a time, and the second thread's spin-wait between products would count as work.
callgrind emulates every instruction, the AVX2 arithmetic of the products slowest of all:
an MNIST step took about 12 s under it on an AMD EPYC (Zen 3), a thousand times its
usual time, so the default four runs take about 5 minutes, two at a time. valgrind is
not a Python package: on Debian or Ubuntu, ``apt install valgrind``.

    python benchmarks/bench_instructions.py                      # MNIST, 10 steps counted
    python benchmarks/bench_instructions.py --json count.json
    python benchmarks/bench_instructions.py --dataset digits --steps 2 --warmup 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's numvae

from bench_step import NumvaeStep, PlainStep  # noqa: E402  (beside this script)
from bench_train import HIDDEN, LATENT, cpu_name  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402
from numvae.plumbing.atomic import atomic_write_json  # noqa: E402

STEPS = ("numvae", "plain")

# One row of `callgrind_annotate`'s per-function table: "1,234 ( 5.67%)  file:function [object]".
ROW = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+?)(?: \[[^\]]*\])?$")
# The source file callgrind found for a function ("???" when the object has no debug info).
SOURCE = re.compile(r"^(?:\?\?\?|\S+\.(?:c|h|S|cpp|cc|pyx)):")


def run_steps(step: str, total: int, dataset: str, data_dir: str | None, seed: int) -> None:
    """What runs under callgrind: ``total`` steps of ``step``, as bench_step builds them."""
    x = nv.load_dataset(dataset, "train", data_dir=data_dir, download=False).x.astype(np.float32)
    model = nv.VAE(nv.ModelConfig(x.shape[1], hidden=(HIDDEN,), latent=LATENT))
    params = model.init_params(np.random.default_rng(seed))
    draws = seed + 1
    runner = NumvaeStep(model, params, x, draws) if step == "numvae" else PlainStep(params, x, draws)
    runner.run(total)


def function_name(location: str) -> str:
    """callgrind's 'file:function' without the file, and without the recursion depth ('2)."""
    return re.sub(r"'\d+$", "", SOURCE.sub("", location, count=1))


def parse_annotate(text: str) -> tuple[int, Counter]:
    """(program total, instructions per function) from ``callgrind_annotate`` output."""
    total, per_function = None, Counter()
    for line in text.splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        count, location = int(match.group(1).replace(",", "")), match.group(2)
        if location == "PROGRAM TOTALS":
            total = count
        else:
            per_function[function_name(location)] += count
    if total is None:
        raise ValueError("no PROGRAM TOTALS line: not callgrind_annotate output")
    return total, per_function


def per_step(short: tuple[int, Counter], long: tuple[int, Counter], steps: int) -> tuple[float, dict]:
    """Instructions per step, in all and per function, from a short run and a longer one
    that ran ``steps`` more steps: what the two share (start-up, imports, data) cancels."""
    total = (long[0] - short[0]) / steps
    functions = {name: (long[1][name] - short[1].get(name, 0)) / steps for name in long[1]}
    return total, functions


def count(step: str, total_steps: int, args, workdir: Path) -> tuple[int, Counter]:
    """Run ``total_steps`` steps of ``step`` under callgrind; its instruction counts."""
    out = workdir / f"callgrind.{step}.{total_steps}"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--run", step, "--run-steps", str(total_steps),
               "--dataset", args.dataset, "--seed", str(args.seed)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    # One BLAS thread: see the module's docstring. A fixed hash seed: Python salts its
    # string hashes per process, and the dictionaries' probe counts would differ run to run.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"valgrind on the {step} step failed:\n{proc.stderr[-2000:]}")
    annotated = subprocess.run(["callgrind_annotate", "--threshold=100", str(out)],
                               capture_output=True, text=True, check=True).stdout
    return parse_annotate(annotated)


def benchmark(args) -> dict:
    # the long runs first: no long run waits for a short one to finish
    runs = [(step, n) for n in (args.warmup + args.steps, args.warmup) for step in STEPS]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        counts = dict(zip(runs, pool.map(lambda run: count(*run, args, Path(tmp)), runs), strict=True))
    result = {"settings": {"dataset": args.dataset, "hidden": HIDDEN, "latent": LATENT,
                           "steps": args.steps, "warmup": args.warmup, "seed": args.seed},
              "machine": {"cpu": cpu_name(), "numpy": np.__version__}}
    functions = {}
    for step in STEPS:
        total, functions[step] = per_step(counts[step, args.warmup], counts[step, args.warmup + args.steps],
                                          args.steps)
        result[step] = {"instructions_per_step": total}
    result["ratio"] = result["numvae"]["instructions_per_step"] / result["plain"]["instructions_per_step"]
    names = set(functions["numvae"]) | set(functions["plain"])
    differences = {name: functions["numvae"].get(name, 0.0) - functions["plain"].get(name, 0.0)
                   for name in names}
    largest = sorted(names, key=lambda name: -abs(differences[name]))[:args.top]
    result["functions"] = [{"name": name, "numvae": functions["numvae"].get(name, 0.0),
                            "plain": functions["plain"].get(name, 0.0), "difference": differences[name]}
                           for name in largest]
    return result


def report(result: dict) -> None:
    s = result["settings"]
    print(f"instructions per training step (callgrind), {s['dataset']} -{s['hidden']}-{s['latent']}: "
          f"runs of {s['warmup']} and {s['warmup'] + s['steps']} steps; {result['machine']['cpu']}, "
          f"numpy {result['machine']['numpy']}, one BLAS thread")
    for step in STEPS:
        print(f"{step:>7}  {result[step]['instructions_per_step'] / 1e6:9.3f} M instructions / step")
    print(f"numvae / plain: {result['ratio']:.4f}")
    print(f"\nwhere they differ most (thousands of instructions per step):\n"
          f"{'function':<48} {'numvae':>10} {'plain':>10} {'numvae - plain':>15}")
    for row in result["functions"]:
        print(f"{row['name'][:48]:<48} {row['numvae'] / 1e3:10.1f} {row['plain'] / 1e3:10.1f} "
              f"{row['difference'] / 1e3:15.1f}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Count the instructions of numvae's training step and of the plain NumPy step "
                    "under valgrind's callgrind.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python benchmarks/bench_instructions.py\n"
               "  python benchmarks/bench_instructions.py --json count.json\n"
               "  python benchmarks/bench_instructions.py --dataset digits --steps 2 --warmup 1")
    parser.add_argument("--steps", type=positive_int, default=10,
                        help="steps counted: the longer run's extra steps (default 10)")
    parser.add_argument("--warmup", type=positive_int, default=2,
                        help="steps of the shorter run, which cancels start-up and first-step costs "
                             "(default 2)")
    parser.add_argument("--top", type=positive_int, default=20,
                        help="functions to list, largest difference first (default 20)")
    parser.add_argument("--jobs", type=positive_int, default=2, help="valgrind runs at once (default 2)")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "digits"),
                        help="mnist (the benchmark) or digits (8x8, embedded: a smoke test anywhere)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ (default: $NUMVAE_DATA_DIR, then numvae's cache)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the parameters and of the draws (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    # What each valgrind run executes: this script itself, running one step's loop.
    parser.add_argument("--run", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--run-steps", type=positive_int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = [tool for tool in ("valgrind", "callgrind_annotate") if shutil.which(tool) is None]
    if missing and not args.run:
        print(f"bench_instructions: {' and '.join(missing)} not found: install valgrind "
              f"(on Debian or Ubuntu: apt install valgrind)", file=sys.stderr)
        return 2
    try:
        if args.run:
            run_steps(args.run, args.run_steps, args.dataset, args.data_dir, args.seed)
            return 0
        # here too, so that a missing data set is reported before minutes of valgrind
        nv.load_dataset(args.dataset, "train", data_dir=args.data_dir, download=False)
    except FileNotFoundError as err:
        print(f"bench_instructions: {args.dataset} not found: pass --data-dir DIR or set NUMVAE_DATA_DIR "
              f"({err})", file=sys.stderr)
        return 2
    result = benchmark(args)
    report(result)
    if args.json:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
