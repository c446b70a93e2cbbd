"""What every lesson script imports: command line, output folder, data, check lines, figures.

No math lives here: every formula a lesson uses comes from ``numvae``. The lessons
(``lessons/NN_topic.py`` in a clone, ``numvae/lessons/`` in the installed package) import
it as ``from numvae.plumbing import lesson as _common``, so that a lesson needs nothing but
numvae installed: run from a clone, from the installed package (``numvae lessons run``),
copied anywhere (``numvae lessons export``), or opened alone as a notebook (Colab).

Each lesson prints its claims as lines

    check: ok      <the claim, with the numbers that prove it>
    check: FAILED  <the claim, with the numbers that refute it>

and ends with ``_common.run(main)``, which behaves as the place it runs in expects:

* from a shell (``python lessons/NN_topic.py --seed 1``): the options are parsed strictly
  and the process exits with status 1 when any check failed, so ``tests/test_lessons.py``
  (and a student) can tell at a glance whether the lesson's argument still holds;
* in a Jupyter kernel (the lesson is a percent-format script: ``# %%`` code cells and
  ``# %% [markdown]`` cells, so jupytext opens it as a notebook, and ``numvae lessons
  export --notebooks`` writes it as one): the kernel's own command line
  (``-f kernel-*.json``) is ignored and the defaults are used, every figure is shown below
  the cell as well as written to its file, and the last cell reports the tally without
  stopping the kernel, or raises ``LessonFailed`` when a check failed, so that a notebook
  run fails visibly. ``%run lessons/NN_topic.py --seed 1`` honours the options.

Figures go to ``--out``; by default to ``output/`` beside the lesson script
(``lessons/output/`` in a clone), or, in a notebook, to ``output/`` in the kernel's
working folder (the notebook's own folder in Jupyter).

A lesson's header, its module docstring, is machine-readable (``lesson_files.lesson_info``
reads it without running the lesson)::

    Lesson NN: <title>.                                   the first line
    Shows: <what the lesson shows, one line>
    Run:  python lessons/NN_topic.py    (about N s, ...)
    Writes lessons/output/NN_name.png ...                 every figure, by file name
"""

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures go to files; a notebook shows the written file (see announce)

LESSON_SCRIPT = re.compile(r"\d\d_\w+\.py")  # 04_elbo.py


class LessonFailed(AssertionError):
    """Raised in a notebook kernel, instead of exiting, when a lesson's check failed."""


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (ipykernel imported), not from a shell."""
    return "ipykernel" in sys.modules


def default_out() -> Path:
    """``output/`` beside the lesson script being run, else (a notebook) in the working folder.

    ``python lessons/04_elbo.py`` and ``%run lessons/04_elbo.py`` give ``lessons/output/``;
    a notebook cell, whose ``sys.argv[0]`` is the kernel's launcher, gives ``./output/``.
    """
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and LESSON_SCRIPT.fullmatch(script.name) and script.is_file():
        return script.resolve().parent / "output"
    return Path.cwd() / "output"


def parse_args(doc: str, argv: list[str] | None = None,
               full_help: str | None = None) -> argparse.Namespace:
    """Options every lesson shares: --seed, --out and (when ``full_help`` is given) --full.

    ``doc`` is the lesson's module docstring: its first paragraph becomes the help text.
    ``argv`` defaults to the command line; in a notebook kernel, whose command line is
    the kernel's own, options this parser does not know are ignored (the defaults stay).
    """
    script = Path(sys.argv[0]).name
    summary = (doc or "").strip().split("\n\n")[0]
    epilog = (f"examples:\n  python lessons/{script}\n"
              f"  python lessons/{script} --seed 1 --out /tmp/figs")
    if full_help:
        epilog += f"\n  python lessons/{script} --full"
    parser = argparse.ArgumentParser(prog=f"python lessons/{script}", description=summary,
                                     epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the lesson's Generator (default 0)")
    parser.add_argument("--out", type=Path, default=default_out(),
                        help="folder for the figures (default: output/ beside the lesson, "
                             "lessons/output/ in a clone)")
    if full_help:
        parser.add_argument("--full", action="store_true", help=full_help)
    if argv is None and in_notebook():
        return parser.parse_known_args(sys.argv[1:])[0]
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


def run(main: Callable[[], int]) -> None:
    """Run a lesson's ``main()`` and end the way the caller expects.

    From a shell: exit with main's status (1 when a check failed). In a notebook kernel:
    return, so the kernel lives on, or raise ``LessonFailed`` when a check failed.
    """
    status = main()
    if not in_notebook():
        sys.exit(status)
    if status:
        raise LessonFailed("a check failed: see the 'check: FAILED' lines above")


def section(title: str) -> None:
    print(f"\n== {title} ==")


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure atomically (numvae's own atomic_write) and announce it."""
    import matplotlib.pyplot as plt

    from numvae.plumbing.atomic import atomic_write

    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return announce(path)


def announce(path: Path) -> Path:
    """Print the 'figure:' line the README and the lesson test look for.

    In a notebook kernel the written file is also shown below the cell.
    """
    print(f"figure: {path}")
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    return Path(path)


def load_data(full: bool, binarize: str | None = None):
    """(train, test) Datasets: MNIST with --full when it can be loaded, else the 8x8 digits.

    Falls back to the embedded digits, saying why, when MNIST raises (no files, no
    network); the default (not --full) is always the digits, which need neither.
    """
    import numvae as nv

    if full:
        try:
            return (nv.load_dataset("mnist", "train", binarize=binarize),
                    nv.load_dataset("mnist", "test", binarize=binarize))
        except (OSError, ValueError) as err:
            print(f"note: MNIST is not available ({err}); falling back to the 8x8 digits")
    return (nv.load_dataset("digits", "train", binarize=binarize),
            nv.load_dataset("digits", "test", binarize=binarize))


@contextmanager
def stopwatch() -> Iterator[list]:
    """``with stopwatch() as t: ...`` leaves the elapsed seconds in t[0]."""
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start
