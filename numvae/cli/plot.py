"""``numvae plot DIR``: regenerate a run's figures from its checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..plumbing.runs import FIGURES
from . import figures
from .options import (
    add_data_dir_option,
    add_figure_options,
    check_data_env,
    check_figure_options,
    check_run_data,
    load_split,
    nonnegative_int,
    output_folder,
    run_argument,
)

EXAMPLES = """examples:
  numvae plot runs/digits                              # rewrite runs/digits/figures/*.png
  numvae plot runs/digits --z1-range -4 4 --z2-range -4 4 --grid-size 15
  numvae plot runs/digits --out /tmp/figs --seed 1     # elsewhere, other prior samples
"""


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="regenerate the figures of a run folder",
                       description="Redraw reconstructions, samples, loss curves, the latent scatter, "
                                   "the mixture prior's components and (2-D latent) the manifold grids "
                                   "from DIR/checkpoint.npz.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="run folder written by numvae train")
    p.add_argument("--out", type=output_folder, default=None,
                   help="folder for the PNGs (default: DIR/figures)")
    p.add_argument("--seed", type=nonnegative_int, default=None,
                   help="seed of the prior samples (default: the run's seed)")
    add_figure_options(p)
    add_data_dir_option(p)
    p.set_defaults(run=run, check=check)


def check(args) -> None:
    check_figure_options(args)
    check_data_env()
    args.loaded = run_argument("DIR", args.run_dir)
    check_run_data(args.loaded[1].config, args.data_dir)


def run(args) -> int:
    model, ckpt = args.loaded
    test_set = load_split(ckpt.config, "test", args.data_dir)
    seed = ckpt.config["seed"] if args.seed is None else args.seed
    folder = args.out or args.run_dir / FIGURES
    for path in figures.write_all(model, ckpt.params, test_set, ckpt.history, folder, seed=seed,
                                  grid_size=args.grid_size, z1_range=tuple(args.z1_range),
                                  z2_range=tuple(args.z2_range)):
        print(f"wrote {path}")
    return 0
