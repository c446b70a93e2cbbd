"""Classroom exercises with an autograder: students derive the VAE's pieces, the grader
tells them exactly what is wrong.

    python -m numvae exercises list               the exercises, in the lecture's order
    python -m numvae exercises init DIR           write the skeletons into DIR
    python -m numvae exercises check DIR [NAME]   grade a folder: one line per check
    python -m numvae exercises grade SUBS --csv grades.csv   one row per student

The pieces: ``catalog`` (the exercises, their points, numvae's answers and what each
may use), ``skeletons/`` (the files students fill in), ``checks/`` (one module of checks
per exercise, comparing the student's answer with numvae's own functions on seeded
random inputs and by finite differences), ``compare`` (the comparisons and their
messages), ``grader`` (runs the checks, with time limits, scores), ``session`` (the
grader's side of the channel to the child), ``protocol`` (the wire format: data only),
``sandbox`` (the child that runs a student's file, and its fork server), ``traps`` and
``confine`` (what the child does before the student's code runs), ``report`` (table,
JSON, CSV, Gradescope), ``similarity`` (identical submissions) and ``handout`` (init).

The trust boundary: the student's code runs only in the child, which turns the inputs
the grader sends into return values; everything that decides a grade happens in the
grader's process, which never imports the student's code.
"""

from .catalog import EXERCISES, Exercise, get_exercise
from .grader import DEFAULT_TIMEOUT, CheckResult, SourceGuard, check_folder, grade_submissions, run_exercise
from .handout import init_folder

__all__ = [
    "DEFAULT_TIMEOUT", "EXERCISES", "CheckResult", "Exercise", "SourceGuard", "check_folder", "get_exercise",
    "grade_submissions", "init_folder", "run_exercise",
]
