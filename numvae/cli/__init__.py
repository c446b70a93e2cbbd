"""The command line: ``python -m numvae <command>`` (also installed as ``numvae``).

Each subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; this file only assembles them.
"""

from __future__ import annotations

import argparse
import sys

from . import train

COMMANDS = [train]

EPILOG = """examples:
  python -m numvae train                         # 2-D latent VAE on the embedded digits
  python -m numvae train --epochs 50 --out runs/digits
  python -m numvae train --help                  # every option of a command
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numvae",
        description="The variational autoencoder from scratch in NumPy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"numvae {args.command}: error: {err}", file=sys.stderr)
        return 2
