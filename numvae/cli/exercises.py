"""``numvae exercises``: hand out the classroom exercises, check a folder, grade a class."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..exercises.catalog import EXERCISES, get_exercise, select
from ..exercises.confine import protect_from_children
from ..exercises.grader import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    SourceGuard,
    check_folder,
    grade_submissions,
)
from ..exercises.handout import init_folder
from ..exercises.report import as_json, format_table, grade_rows, grades_csv, gradescope_json, write_atomic
from ..exercises.similarity import format_groups, identical_groups
from .options import nonnegative_int, positive_float, positive_int

EXAMPLES = """examples:
  python -m numvae exercises list                        # the exercises, in the lecture's order
  python -m numvae exercises init my-vae                 # students: write the skeletons into my-vae/
  python -m numvae exercises check my-vae                # grade every exercise, one line per check
  python -m numvae exercises check my-vae bce kl_mvn     # only these exercises
  python -m numvae exercises check my-vae --json         # machine-readable results
  python -m numvae exercises grade submissions --csv grades.csv --seed 8731   # instructors
  python -m numvae exercises check /autograder/submission --seed 8731 \\
      --gradescope /autograder/results/results.json       # inside Gradescope's run_autograder
"""
TAMPERED = 3  # exit status when numvae's own files changed while grading


def memory_mb(text: str) -> int:
    value = positive_int(text)
    if value < 256:
        raise argparse.ArgumentTypeError(f"expected at least 256 MiB, got {value}")
    return value


def _add_grading_options(p: argparse.ArgumentParser, default_jobs: int) -> None:
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="exercises to grade, by name (bce), file (ex03_bce) or number (3); default all")
    p.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                   help="seconds each check may run before it counts as failed "
                        f"(default {DEFAULT_TIMEOUT:g}; six times that for kl_properties)")
    p.add_argument("--jobs", type=positive_int, default=default_jobs,
                   help=f"exercise files graded at the same time (default {default_jobs})")
    p.add_argument("--seed", type=nonnegative_int, default=None,
                   help="draw the checks' inputs from this seed instead of the ones students see with "
                        "'check' (hidden inputs: a file that hard-codes outputs fails)")
    p.add_argument("--memory-mb", type=memory_mb, default=DEFAULT_MEMORY_MB, dest="memory_mb",
                   help=f"address space each student's process may use, in MiB (default {DEFAULT_MEMORY_MB})")


def add_parser(sub) -> None:
    p = sub.add_parser("exercises", help="classroom exercises with an autograder",
                       description="Classroom exercises: students implement the VAE's derivations, the "
                                   "grader runs their files in confined processes and says what is wrong.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="action", required=True)

    listing = actions.add_parser("list", help="one line per exercise")
    listing.set_defaults(run=run_list)

    init = actions.add_parser("init", help="write the skeleton files into a folder")
    init.add_argument("folder", type=Path, metavar="DIR")
    init.add_argument("names", nargs="*", metavar="NAME", help="only these exercises (default all)")
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")
    init.set_defaults(run=run_init)

    check = actions.add_parser("check", help="grade a folder and print one line per check",
                               description="Grade a folder. Exit status 1 when any check fails, 3 when the "
                                           "folder's code changed numvae's own files.")
    check.add_argument("folder", type=Path, metavar="DIR")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--gradescope", type=Path, metavar="FILE",
                       help="also write Gradescope's autograder results.json to FILE")
    _add_grading_options(check, default_jobs=1)
    check.set_defaults(run=run_check)

    grade = actions.add_parser("grade", help="grade one sub-folder per student into a CSV",
                               description="Grade SUBMISSIONS_DIR/<student>/ for every student; write a "
                                           "CSV with one row per student, one column per exercise (its "
                                           "points) and the total; report files that are the same code.")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR")
    grade.add_argument("--csv", type=Path, required=True, metavar="OUT.csv", help="the grade sheet to write")
    grade.add_argument("--details", type=Path, metavar="OUT.json",
                       help="also write every check's result for every student as JSON")
    grade.add_argument("--similar", type=Path, metavar="OUT.json",
                       help="also write the groups of identical submissions as JSON")
    _add_grading_options(grade, default_jobs=min(4, os.cpu_count() or 1))
    grade.set_defaults(run=run_grade)


def run_list(args) -> int:
    for exercise in EXERCISES:
        n_checks = len(exercise.check_names())
        print(f"{exercise.number:2d}  {exercise.name:<19} {exercise.file:<28} {exercise.title} "
              f"({n_checks} checks, {exercise.points:g} points)")
    return 0


def run_init(args) -> int:
    for name in args.names:
        get_exercise(name)  # an unknown name is an error before anything is written
    written, kept = init_folder(args.folder, args.names, force=args.force)
    for path in written:
        print(f"wrote {path}")
    for path in kept:
        print(f"kept  {path} (it exists; --force overwrites it)")
    print(f"\nnext: fill in the functions, then run  python -m numvae exercises check {args.folder}")
    return 0


def _warn(guard: SourceGuard) -> bool:
    """Tell the instructor what the grader noticed; True when numvae's files were tampered with."""
    if guard.confinement and not guard.confinement.get("landlock"):
        print("warning: this kernel offers no Landlock, so the students' code could create, truncate or "
              "remove files (RLIMIT_FSIZE only stops it from writing content); grade untrusted code in a "
              "container", file=sys.stderr)
    for culprit, files in guard.incidents:
        print(f"WARNING: numvae's own files changed on disk while {culprit} was graded: "
              f"{', '.join(files[:10])}. That file scores 0. Restore numvae (git checkout, or pip install "
              f"--force-reinstall) before grading again, and grade untrusted code in a container.",
              file=sys.stderr)
    return bool(guard.incidents)


def _options(args) -> dict:
    return {"timeout": args.timeout, "jobs": args.jobs, "seed": args.seed, "memory_mb": args.memory_mb}


def run_check(args) -> int:
    protect_from_children()
    exercises = select(args.names)
    guard = SourceGuard()
    results = check_folder(args.folder, args.names, guard=guard, **_options(args))
    if args.json:
        print(json.dumps(as_json(args.folder, results, exercises), indent=2))
    else:
        print(format_table(results, exercises))
    if args.gradescope:
        write_atomic(args.gradescope, json.dumps(gradescope_json(results, exercises), indent=2))
    if _warn(guard):
        return TAMPERED
    return 0 if all(r.passed for r in results) else 1


def run_grade(args) -> int:
    protect_from_children()
    exercises = select(args.names)
    guard = SourceGuard()
    grades = grade_submissions(args.submissions, args.names, guard=guard, **_options(args))
    write_atomic(args.csv, grades_csv(grades, exercises))
    if args.details:
        details = {student: as_json(args.submissions / student, results, exercises)
                   for student, results in grades.items()}
        write_atomic(args.details, json.dumps(details, indent=2))
    groups = identical_groups([args.submissions / student for student in grades], exercises)
    if args.similar:
        write_atomic(args.similar, json.dumps(groups, indent=2))
    width = max(len("student"), *(len(s) for s in grades))
    most = sum(e.points for e in exercises)
    print(f"{'student':<{width}}  total (of {most:g} points)")
    for row in grade_rows(grades, exercises):
        print(f"{row['student']:<{width}}  {row['total']:g}")
    print("\n" + format_groups(groups))
    written = [str(p) for p in (args.csv, args.details, args.similar) if p]
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    return TAMPERED if _warn(guard) else 0
