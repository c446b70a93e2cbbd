"""``numvae sample DIR``: decode draws z ~ p(z) into a grid of images.

p(z) is the run's prior: N(0, I), or its learned mixture of Gaussians. A conditional VAE
decodes each z with a label: ``--label L`` draws n images of class L; without it the
grid has a row per label, and the same z down each column, so a column keeps one style
(slant, thickness) across every class.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..plumbing import plots
from ..plumbing.runs import FIGURES, image_shape
from . import figures
from .options import (
    UsageError,
    class_label,
    is_conditional,
    nonnegative_int,
    output_file,
    positive_int,
    run_argument,
)

EXAMPLES = """examples:
  numvae sample runs/digits                        # 100 samples -> runs/digits/figures/samples_seed0.png
  numvae sample runs/digits --n 64 --ncols 8 --seed 3 --out samples.png
  numvae sample runs/cvae --label 7 --n 16         # a conditional VAE's sevens
  numvae sample runs/cvae                          # a row per label, the same z down each column
"""
DEFAULT_N = 100


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained run's p(x) into a PNG",
                       description="Decode n codes drawn from the run's prior p(z): the mean images "
                                   "of p(x|z) (p(x|z, y) with a label), tiled into one PNG.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="run folder written by numvae train")
    p.add_argument("--n", type=positive_int, default=None,
                   help=f"number of samples (default: {DEFAULT_N}; a conditional run without --label "
                        "draws --ncols codes and decodes each with every label)")
    p.add_argument("--ncols", type=positive_int, default=10, help="images per row (default: 10)")
    p.add_argument("--label", type=class_label, default=None,
                   help="a conditional VAE's class to draw (default: a row per class)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the prior draws (default: 0)")
    p.add_argument("--out", type=output_file(".png"), default=None,
                   help="PNG to write (default: DIR/figures/samples_seed<SEED>.png, "
                        "samples_label<L>_seed<SEED>.png with --label)")
    p.set_defaults(run=run, check=check)


def check(args) -> None:
    args.loaded = run_argument("DIR", args.run_dir)
    config = args.loaded[1].config
    if is_conditional(config):
        classes = config["classes"]
        if args.label is not None and args.label >= classes:
            raise UsageError("argument --label", f"a class from 0 to {classes - 1} (the run's {classes} "
                             "classes)", str(args.label))
        if args.label is None and args.n is not None:
            raise UsageError("argument --n", "--label with it for a conditional run (without --label the "
                             "grid has a row per label and --ncols columns)", f"--n {args.n} without --label")
    elif args.label is not None:
        raise UsageError("argument --label", f"no --label: the run in {args.run_dir} is not conditional "
                         f"(--model {config['model']}; a conditional one is trained with --model cvae)",
                         f"--label {args.label}")


def run(args) -> int:
    model, ckpt = args.loaded
    shape = image_shape(ckpt.config)
    rng = np.random.default_rng(args.seed)
    prior = figures.prior_name(model)
    if is_conditional(ckpt.config) and args.label is None:
        images = figures.label_rows(model, ckpt.params, args.ncols, rng)
        ncols = args.ncols
        title = f"a row per label 0..{model.config.classes - 1}, the same z down each column"
        default_name = f"samples_seed{args.seed}.png"
    else:
        n = DEFAULT_N if args.n is None else args.n
        labels = {} if args.label is None else {"y": np.full(n, args.label)}
        images = model.sample(ckpt.params, n, rng, **labels)
        ncols = args.ncols
        of_label = "" if args.label is None else f" of label {args.label}"
        title = f"{n} samples{of_label}: decode(z), z ~ {prior}, seed {args.seed}"
        default_name = (f"samples_seed{args.seed}.png" if args.label is None
                        else f"samples_label{args.label}_seed{args.seed}.png")
    out = args.out or args.run_dir / FIGURES / default_name
    path = plots.image_grid(images, shape, out, ncols=ncols, title=title)
    print(f"wrote {path}")
    return 0
