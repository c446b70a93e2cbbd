"""Presenting grades: the check table for a student, JSON for machines, CSV for instructors.

An exercise's score is the fraction of its checks that passed (0 to 1); a student's total
is the sum over the exercises graded, so a complete set of answers scores the number of
exercises.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .catalog import Exercise
from .grader import CheckResult


def exercise_scores(results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> dict[str, dict]:
    """{exercise name: {"passed": n, "total": m, "score": n / m}} in the catalog's order."""
    scores = {}
    for exercise in exercises:
        mine = [r for r in results if r.exercise == exercise.name]
        passed = sum(r.passed for r in mine)
        scores[exercise.name] = {"passed": passed, "total": len(mine),
                                 "score": passed / len(mine) if mine else 0.0}
    return scores


def format_table(results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> str:
    """One line per check, 'passed' or 'FAIL' and what is wrong; hints on indented lines."""
    ex_width = max([len("exercise")] + [len(r.exercise) for r in results])
    check_width = max([len("check")] + [len(r.check) for r in results])
    indent = " " * (ex_width + check_width + 4)
    lines = [f"{'exercise':<{ex_width}}  {'check':<{check_width}}  result"]
    for r in results:
        message = r.message.splitlines() or [""]
        verdict = "passed" if r.passed else f"FAIL  {message[0]}"
        lines.append(f"{r.exercise:<{ex_width}}  {r.check:<{check_width}}  {verdict}")
        if not r.passed:
            lines.extend(f"{indent}      {extra.strip()}" for extra in message[1:])
    scores = exercise_scores(results, exercises)
    passed = sum(r.passed for r in results)
    complete = sum(s["passed"] == s["total"] for s in scores.values())
    lines.append(f"\n{passed} of {len(results)} checks passed; "
                 f"{complete} of {len(scores)} exercises complete")
    return "\n".join(lines)


def as_json(folder, results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> dict:
    """Machine-readable results: totals, and per exercise its file, score and checks."""
    scores = exercise_scores(results, exercises)
    return {
        "folder": str(folder),
        "passed": sum(r.passed for r in results),
        "total": len(results),
        "exercises": [
            {"number": e.number, "name": e.name, "file": e.file, **scores[e.name],
             "checks": [{"check": r.check, "passed": r.passed, "message": r.message}
                        for r in results if r.exercise == e.name]}
            for e in exercises
        ],
    }


def grade_rows(grades: Mapping[str, Sequence[CheckResult]], exercises: Sequence[Exercise]) -> list[dict]:
    """One row per student: {"student", one score per exercise (3 decimals), "total"}."""
    rows = []
    for student, results in grades.items():
        scores = exercise_scores(results, exercises)
        row = {"student": student}
        row.update({name: round(s["score"], 3) for name, s in scores.items()})
        row["total"] = round(sum(s["score"] for s in scores.values()), 3)
        rows.append(row)
    return rows


def write_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and os.replace: never half a file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder of {str(path)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def grades_csv(grades: Mapping[str, Sequence[CheckResult]], exercises: Sequence[Exercise]) -> str:
    """The CSV text: header student, <exercise names...>, total; one row per student."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["student", *(e.name for e in exercises), "total"])
    writer.writeheader()
    writer.writerows(grade_rows(grades, exercises))
    return buffer.getvalue()
