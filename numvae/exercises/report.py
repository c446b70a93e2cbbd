"""Presenting grades: the check table for a student, JSON for machines, CSV for instructors,
Gradescope's results.json.

An exercise is worth ``Exercise.points`` (the catalog); each of its checks is worth an
equal share, so an exercise scores points x (checks passed / checks). A consistency check
that did not count (see ``checks``) has already been turned into a failure by the grader.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from .catalog import Exercise
from .grader import CheckResult

WIDTH = 100  # the table's columns


def exercise_scores(results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> dict[str, dict]:
    """{exercise name: {"passed", "total", "score" (0 to 1), "points", "max_points"}}, catalog order."""
    scores = {}
    for exercise in exercises:
        mine = [r for r in results if r.exercise == exercise.name]
        passed = sum(r.passed for r in mine)
        fraction = passed / len(mine) if mine else 0.0
        scores[exercise.name] = {"passed": passed, "total": len(mine), "score": fraction,
                                 "points": round(exercise.points * fraction, 4),
                                 "max_points": exercise.points}
    return scores


def _wrap(text: str, indent: int, hanging: int = 0) -> list[str]:
    """``text`` in lines of at most WIDTH columns, indented; continuation lines ``hanging`` more."""
    return textwrap.wrap(text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * (indent + hanging),
                         break_on_hyphens=False) or [" " * indent]


def format_table(results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> str:
    """Per exercise a heading and one line per check, 'passed' or 'FAIL', then what is wrong
    and the hints on indented lines; every line at most 100 columns."""
    scores = exercise_scores(results, exercises)
    lines = []
    for exercise in exercises:
        mine = [r for r in results if r.exercise == exercise.name]
        if not mine:
            continue
        s = scores[exercise.name]
        lines.extend(_wrap(f"{exercise.file[:-3]}: {s['passed']} of {s['total']} checks passed, "
                           f"{s['points']:.4g} of {s['max_points']:g} points", 0, 4))
        for r in mine:
            lines.extend(_wrap(f"{'passed' if r.passed else 'FAIL':<6}  {r.check}", 2, 8))
            if r.passed:
                continue
            for part in r.message.splitlines() or [""]:
                part = part.strip()
                lines.extend(_wrap(part, 10, 6 if part.startswith("hint:") else 2))
        lines.append("")
    passed = sum(r.passed for r in results)
    complete = sum(s["passed"] == s["total"] for s in scores.values())
    points = sum(s["points"] for s in scores.values())
    most = sum(s["max_points"] for s in scores.values())
    lines.extend(_wrap(f"{passed} of {len(results)} checks passed; {complete} of {len(scores)} exercises "
                       f"complete; {points:.4g} of {most:g} points", 0))
    return "\n".join(lines)


def as_json(folder, results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> dict:
    """Machine-readable results: totals, and per exercise its file, points and checks."""
    scores = exercise_scores(results, exercises)
    return {
        "folder": str(folder),
        "passed": sum(r.passed for r in results),
        "total": len(results),
        "points": round(sum(s["points"] for s in scores.values()), 4),
        "max_points": sum(s["max_points"] for s in scores.values()),
        "exercises": [
            {"number": e.number, "name": e.name, "file": e.file, **scores[e.name],
             "checks": [{"check": r.check, "passed": r.passed, "message": r.message}
                        for r in results if r.exercise == e.name]}
            for e in exercises
        ],
    }


def gradescope_json(results: Sequence[CheckResult], exercises: Sequence[Exercise]) -> dict:
    """Gradescope's autograder results.json: the total score and one test per check, each
    worth its share of its exercise's points, with the check's message as output."""
    scores = exercise_scores(results, exercises)
    tests = []
    for exercise in exercises:
        mine = [r for r in results if r.exercise == exercise.name]
        share = exercise.points / len(mine) if mine else 0.0
        for i, r in enumerate(mine, start=1):
            tests.append({"name": f"{exercise.file[:-3]}: {r.check}", "number": f"{exercise.number}.{i}",
                          "score": round(share if r.passed else 0.0, 4), "max_score": round(share, 4),
                          "status": "passed" if r.passed else "failed", "output": r.message,
                          "visibility": "visible"})
    total = sum(s["points"] for s in scores.values())
    passed = sum(r.passed for r in results)
    return {"score": round(total, 4), "output": f"numvae exercises: {passed} of {len(results)} checks passed",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def grade_rows(grades: Mapping[str, Sequence[CheckResult]], exercises: Sequence[Exercise]) -> list[dict]:
    """One row per student: {"student", the points of each exercise (2 decimals), "total"}."""
    rows = []
    for student, results in grades.items():
        scores = exercise_scores(results, exercises)
        row = {"student": student}
        row.update({name: round(s["points"], 2) for name, s in scores.items()})
        row["total"] = round(sum(s["points"] for s in scores.values()), 2)
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
    """The CSV text: header student, <exercise names...>, total; one row per student, in points."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["student", *(e.name for e in exercises), "total"])
    writer.writeheader()
    writer.writerows(grade_rows(grades, exercises))
    return buffer.getvalue()
