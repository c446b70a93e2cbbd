"""Plumbing shared by the lessons: command line, output folder, data, check lines, figures.

No math lives here: every formula a lesson uses comes from ``numvae``. Importing this
module also lets ``python lessons/NN_topic.py`` find ``numvae`` in a fresh checkout that
was never pip-installed (it puts the repository root on ``sys.path`` only when numvae is
not importable already).

Each lesson prints its claims as lines

    check: ok      <the claim, with the numbers that prove it>
    check: FAILED  <the claim, with the numbers that refute it>

and exits with status 1 when any check failed, so ``tests/test_lessons.py`` (and a
student) can tell at a glance whether the lesson's argument still holds.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # lessons write figures to files and never open a window

REPO_ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("numvae") is None:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def parse_args(doc: str, argv: list[str] | None = None, full_help: str | None = None) -> argparse.Namespace:
    """Options every lesson shares: --seed, --out and (when ``full_help`` is given) --full.

    ``doc`` is the lesson's module docstring: its first paragraph becomes the help text.
    """
    script = Path(sys.argv[0]).name
    summary = doc.strip().split("\n\n")[0]
    epilog = f"examples:\n  python lessons/{script}\n  python lessons/{script} --seed 1 --out /tmp/figs"
    if full_help:
        epilog += f"\n  python lessons/{script} --full"
    parser = argparse.ArgumentParser(prog=f"python lessons/{script}", description=summary, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="seed of the lesson's Generator (default 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the figures (default lessons/output/)")
    if full_help:
        parser.add_argument("--full", action="store_true", help=full_help)
    return parser.parse_args(argv)


class Checks:
    """Print each claim as a 'check:' line and remember whether any failed."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def __call__(self, ok, claim: str) -> bool:
        ok = bool(ok)
        print(f"check: {'ok    ' if ok else 'FAILED'}  {claim}")
        if ok:
            self.passed += 1
        else:
            self.failed.append(claim)
        return ok

    def finish(self) -> int:
        """Print the tally; return the process exit status (0 all ok, 1 otherwise)."""
        total = self.passed + len(self.failed)
        if self.failed:
            print(f"\n{len(self.failed)} of {total} checks FAILED")
            return 1
        print(f"\nall {total} checks ok")
        return 0


def section(title: str) -> None:
    print(f"\n== {title} ==")


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure atomically (temporary file, then rename) and announce it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return announce(path)


def announce(path: Path) -> Path:
    """Print the 'figure:' line the README and the lesson test look for."""
    print(f"figure: {path}")
    return Path(path)


def load_data(full: bool, binarize: str | None = None):
    """(train, test) Datasets: MNIST with --full when it can be loaded, else the 8x8 digits.

    Falls back to the embedded digits, saying why, when MNIST raises (no files, no
    network); the default (not --full) is always the digits, which need neither.
    """
    import numvae as nv

    if full:
        try:
            return nv.load_dataset("mnist", "train", binarize=binarize), nv.load_dataset(
                "mnist", "test", binarize=binarize)
        except (OSError, ValueError) as err:
            print(f"note: MNIST is not available ({err}); falling back to the 8x8 digits")
    return nv.load_dataset("digits", "train", binarize=binarize), nv.load_dataset(
        "digits", "test", binarize=binarize)


@contextmanager
def stopwatch() -> Iterator[list]:
    """``with stopwatch() as t: ...`` leaves the elapsed seconds in t[0]."""
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start
