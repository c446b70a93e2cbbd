"""The command line: ``python -m numvae <command>`` (also installed as ``numvae``).

Each subcommand lives in its own module with ``add_parser(subparsers)``, ``run(args) ->
int`` and, for the rules between options, ``check(args)``; this file only assembles them,
checks every argument before any work (``options``), and turns expected errors (bad
options, missing or corrupt files) into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from . import evaluate, exercises, explore, gradcheck, lessons, plot, sample, train
from .options import Parser

COMMANDS = [
    train,
    evaluate,
    sample,
    plot,
    gradcheck,
    exercises,
    explore,
    lessons,
]

EPILOG = """examples:
  numvae train                                  # 2-D latent VAE on the embedded digits -> runs/digits
  numvae train --epochs 50 --out runs/seed      # every option: numvae train --help
  numvae train --resume runs/seed --epochs 80   # continue a run from its checkpoint
  numvae evaluate runs/seed                     # test ELBO and importance-weighted log p(x)
  numvae sample runs/seed --n 64                # draws from p(x) to a PNG
  numvae plot runs/seed                         # redraw the run's figures
  numvae gradcheck --variance-head relu         # finite-difference check of every gradient
  numvae train --model cvae --out runs/cvae     # a conditional VAE (or --objective iwae, --prior mixture)
  numvae sample runs/cvae --label 7 --n 16      # sixteen sevens from it
  numvae train --arch conv --out runs/conv      # the lecture's convolutional VAE (MNIST: padded to 32x32)
  numvae explore runs/seed                      # a web page to drag through the latent space
  numvae exercises init hw1                     # student exercises; then: numvae exercises check hw1
  numvae lessons list                           # the lecture's lessons; numvae lessons run 04
  numvae lessons export nb --notebooks          # the lessons as Jupyter notebooks in nb/

(python -m numvae ... is the same program.)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="numvae",
        description="The variational autoencoder from scratch in NumPy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    parser.command_parsers = sub.choices
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the subcommand's parser (argparse would name the top one)
        parser.command_parsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        check = getattr(args, "check", None)
        if check is not None:
            check(args)  # every rule between the options, before anything is loaded or written
        return args.run(args)
    except (ValueError, TypeError, OSError) as err:
        print(f"numvae {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:
        print(f"numvae {args.command}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nnumvae {args.command}: interrupted", file=sys.stderr)
        return 130
