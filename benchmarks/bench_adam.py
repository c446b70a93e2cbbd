"""Which block size makes numvae's Adam step fastest on this machine?

Adam's update is a dozen in-place passes over five model-sized float32 arrays
(parameters, gradients, m, v, one scratch array). Over the whole 784-400-20 VAE
(652,824 parameters, 2.6 MB per array) each pass streams 13 MB through the memory
system; run over blocks that fit in the core's L2 cache, the passes after the first
find their data in cache. Whether that wins depends on the processor (an Intel Xeon with
2 MB of L2 per core gained 35 %; an AMD EPYC with 512 KB of L2 and a large L3 lost
2-24 %), so numvae picks the block from the L2 size (``numvae.optim.adam_block``), and
this script measures whether that choice is right here: each block size takes its turn,
round after round, and the median time per step is reported.

    python benchmarks/bench_adam.py                  # the benchmark VAE's 652,824 parameters
    python benchmarks/bench_adam.py --blocks 16384,65536,262144 --rounds 31
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's numvae

from bench_train import cpu_name  # noqa: E402  (beside this script)

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402

WHOLE = "whole"  # one block as large as the model: each pass over all of it at once


def parse_blocks(text: str) -> list[int]:
    """'16384,65536' -> [16384, 65536]; anything but positive integers is refused."""
    try:
        blocks = [int(part) for part in text.split(",")]
    except ValueError:
        blocks = []
    if not blocks or min(blocks) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return blocks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Time numvae's Adam step over the benchmark VAE for several block sizes, interleaved.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python benchmarks/bench_adam.py\n"
               "  python benchmarks/bench_adam.py --blocks 32768,131072 --rounds 31")
    parser.add_argument("--blocks", type=parse_blocks, default=[16384, 32768, 65536, 131072, 262144],
                        help="block sizes to compare with the unblocked update (default: 16384 to 262144)")
    parser.add_argument("--rounds", type=positive_int, default=21, help="rounds of turns (default 21)")
    parser.add_argument("--steps", type=positive_int, default=20, help="steps per turn (default 20)")
    args = parser.parse_args(argv)

    model = nv.VAE(nv.ModelConfig(784, hidden=(400,), latent=20))
    rng = np.random.default_rng(0)
    params = model.init_params(rng)
    grads = params.zeros_like()
    grads.flat[:] = rng.standard_normal(grads.flat.size, dtype=np.float32) * 1e-3
    grads["enc.0.W"][:100] = 0  # blank pixels: gradients exactly zero, as in MNIST
    size = params.flat.size
    sizes = {WHOLE: size, **{str(b): b for b in args.blocks}}
    runs = {label: (nv.Adam(lr=1e-3, block=b), []) for label, b in sizes.items()}
    states = {label: opt.init(params) for label, (opt, _) in runs.items()}
    for _ in range(args.rounds):
        for label, (opt, times) in runs.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                opt.step(params, grads, states[label])
            times.append((time.perf_counter() - t0) / args.steps)
    whole = statistics.median(runs[WHOLE][1])
    print(f"Adam step over {size} float32 parameters; {args.rounds} rounds x {args.steps} steps; "
          f"numpy {np.__version__}; {cpu_name()}")
    print(f"{'block':>8}  {'ms/step':>8}  {'vs whole':>8}")
    for label, (_, times) in runs.items():
        median = statistics.median(times)
        print(f"{label:>8}  {median * 1e3:8.3f}  {median / whole:8.2f}")
    l2 = nv.optim.l2_cache_bytes()
    print(f"numvae's choice here (L2 {l2 // 1024} KiB): "
          + ("whole" if nv.optim.ADAM_BLOCK is None else f"blocks of {nv.optim.ADAM_BLOCK}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
