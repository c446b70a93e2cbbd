"""``numvae lessons``: list the lessons, run one, copy them out as scripts or notebooks."""

from __future__ import annotations

import argparse
import json
import os
import site
import subprocess
import sys
from pathlib import Path

from ..plumbing.lesson_files import export, find_lesson, lesson_info, lesson_paths, lessons_dir, select
from .options import nonnegative_int

DEFAULT_RUN_OUT = Path("numvae-lessons") / "output"  # + the lesson's name, in the current folder

EXAMPLES = """examples:
  python -m numvae lessons list                        # the lessons, in the lecture's order
  python -m numvae lessons run 04                      # figures in numvae-lessons/output/04_elbo/
  python -m numvae lessons run elbo --out figs         # by name; figures in figs/
  python -m numvae lessons run 09 --full               # 02 and 09 also run on MNIST
  python -m numvae lessons export my-lessons           # the scripts, to read, change and run
  python -m numvae lessons export my-lessons --notebooks    # one .ipynb per lesson (Jupyter, Colab)
  python -m numvae lessons export my-lessons 04 05 --notebooks   # only these
"""

LESSON_HELP = "a lesson by number (4, 04), name (04_elbo, elbo) or the start of a name (kl)"


def add_parser(sub) -> None:
    p = sub.add_parser("lessons", help="the lecture's lessons: list, run, export as notebooks",
                       description="The lessons walk through the lecture note in its order, each a "
                                   "runnable script that checks every claim it makes ('check: ok' "
                                   "lines) and draws its figures. They come with the package.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="action", required=True)

    listing = actions.add_parser("list", help="number, title, what each lesson shows, run time")
    listing.add_argument("--json", action="store_true", help="print the lessons' headers as JSON")
    listing.set_defaults(run=run_list)

    run_ = actions.add_parser(
        "run", help="run one lesson; its output streams here, its figures go to a folder",
        description="Run a lesson in a fresh Python process, as 'python LESSON.py' would. Its "
                    "output streams here; the exit status is the lesson's (1 when a check "
                    "failed). The figures go to --out, by default "
                    f"{DEFAULT_RUN_OUT}/<lesson>/ in the current folder.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run_.add_argument("lesson", metavar="LESSON", help=LESSON_HELP)
    run_.add_argument("--out", type=Path, metavar="DIR",
                      help=f"folder for the figures (default: {DEFAULT_RUN_OUT}/<lesson>/)")
    run_.add_argument("--seed", type=nonnegative_int, help="seed of the lesson's Generator (default 0)")
    run_.add_argument("--full", action="store_true",
                      help="MNIST instead of the 8x8 digits (lessons 02 and 09; falls back to the "
                           "digits when MNIST cannot be loaded)")
    run_.set_defaults(run=run_run)

    exp = actions.add_parser(
        "export", help="copy the lessons into a folder, as scripts or as notebooks",
        description="Copy the lessons into DIR: the scripts as they are, or with --notebooks one "
                    "Jupyter notebook (.ipynb, nbformat 4, no outputs) per lesson, which opens in "
                    "Jupyter, VS Code and Colab and runs top to bottom with numvae installed. "
                    "Existing files are kept unless --force.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("folder", type=Path, metavar="DIR")
    exp.add_argument("lessons", nargs="*", metavar="LESSON", help=f"only these ({LESSON_HELP}); default all")
    exp.add_argument("--notebooks", action="store_true", help="write .ipynb notebooks instead of scripts")
    exp.add_argument("--force", action="store_true", help="overwrite files that already exist")
    exp.set_defaults(run=run_export)


def run_list(args) -> int:
    infos = [{**lesson_info(path), "path": str(path)} for path in lesson_paths()]
    if args.json:
        print(json.dumps(infos, indent=2, ensure_ascii=False))
        return 0
    for info in infos:
        print(f"{info['number']:02d}  {info['title']}  (about {info['seconds']:g} s)")
        print(f"    shows: {info['shows']}")
    print(f"\n{len(infos)} lessons in {lessons_dir()}")
    print("run one:  python -m numvae lessons run 04      "
          "copy them:  python -m numvae lessons export DIR [--notebooks]")
    return 0


def child_env() -> dict[str, str]:
    """The environment of a lesson's process: unbuffered output, and this numvae importable.

    When this numvae is not in a site-packages folder (a clone, or PYTHONPATH), its parent
    folder goes first on the child's PYTHONPATH, so the lesson imports the same numvae.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    root = Path(__file__).resolve().parent.parent.parent  # the folder holding numvae/
    site_dirs = {Path(d).resolve() for d in [*site.getsitepackages(), site.getusersitepackages()]}
    if root not in site_dirs:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def run_run(args) -> int:
    path = find_lesson(args.lesson)
    info = lesson_info(path)
    if args.full and not info["full"]:
        with_full = [p.stem for p in lesson_paths() if lesson_info(p)["full"]]
        raise ValueError(f"lesson {path.stem} has no --full mode (only {', '.join(with_full)})")
    out = (args.out if args.out is not None else DEFAULT_RUN_OUT / path.stem).resolve()
    command = [sys.executable, str(path), "--out", str(out)]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.full:
        command.append("--full")
    print(f"lesson {path.stem}: {info['title']}\nrunning {path}\nfigures go to {out}/\n", flush=True)
    status = subprocess.run(command, env=child_env(), check=False).returncode
    verdict = "every check holds" if status == 0 else f"exit status {status}"
    print(f"\nlesson {path.stem}: {verdict}; figures in {out}/")
    return status


def run_export(args) -> int:
    paths = select(args.lessons)
    written, kept = export(args.folder, paths, notebooks=args.notebooks, force=args.force)
    for path in written:
        print(f"wrote {path}")
    for path in kept:
        print(f"kept  {path} (it exists; --force overwrites it)")
    if args.notebooks:
        print(f"\nnext: open them in Jupyter (jupyter lab {args.folder}), VS Code or Colab and run "
              "all cells; figures go to output/ beside the notebooks")
    else:
        first = (written + kept)[0].name if written + kept else "NN_topic.py"
        print(f"\nnext: python {args.folder / first}    (figures go to {args.folder / 'output'}/)")
    return 0
