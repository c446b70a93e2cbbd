"""``numvae sample DIR``: decode n draws z ~ p(z) = N(0, I) into a grid of images."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..plumbing import plots
from ..plumbing.runs import FIGURES, image_shape, load_run
from .options import nonnegative_int, positive_int

EXAMPLES = """examples:
  numvae sample runs/digits                        # 100 samples -> runs/digits/figures/samples_seed0.png
  numvae sample runs/digits --n 64 --ncols 8 --seed 3 --out samples.png
"""


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained run's p(x) into a PNG",
                       description="Decode n codes drawn from the prior N(0, I): the mean images "
                                   "of p(x|z), tiled into one PNG.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="run folder written by numvae train")
    p.add_argument("--n", type=positive_int, default=100, help="number of samples (default: 100)")
    p.add_argument("--ncols", type=positive_int, default=10, help="images per row (default: 10)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the prior draws (default: 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="PNG to write (default: DIR/figures/samples_seed<SEED>.png)")
    p.set_defaults(run=run)


def run(args) -> int:
    model, ckpt = load_run(args.run_dir)
    shape = image_shape(ckpt.config)
    images = model.sample(ckpt.params, args.n, np.random.default_rng(args.seed))
    out = args.out or args.run_dir / FIGURES / f"samples_seed{args.seed}.png"
    path = plots.image_grid(images, shape, out, ncols=args.ncols,
                            title=f"{args.n} samples: decode(z), z ~ N(0, I), seed {args.seed}")
    print(f"wrote {path}")
    return 0

