"""Classroom exercises with an autograder: students derive the VAE's pieces, the grader
tells them exactly what is wrong.

    python -m numvae exercises list               the exercises, in the lecture's order
    python -m numvae exercises init DIR           write the skeletons into DIR
    python -m numvae exercises check DIR [NAME]   grade a folder: one line per check
    python -m numvae exercises grade SUBS --csv grades.csv   one row per student

The pieces: ``catalog`` (the list of exercises), ``skeletons/`` (the files students
fill in), ``checks/`` (one module of checks per exercise, comparing the student's answer
with numvae's own functions on seeded random inputs and by finite differences),
``compare`` (the comparisons and their messages), ``runner`` (the subprocess that runs
a student's file), ``grader`` (starts it, with a time limit), ``report`` (table, JSON,
CSV) and ``handout`` (init).
"""

from .catalog import EXERCISES, Exercise, get_exercise
from .grader import DEFAULT_TIMEOUT, CheckResult, check_folder, grade_submissions, run_exercise
from .handout import init_folder

__all__ = [
    "DEFAULT_TIMEOUT", "EXERCISES", "CheckResult", "Exercise", "check_folder", "get_exercise",
    "grade_submissions", "init_folder", "run_exercise",
]
