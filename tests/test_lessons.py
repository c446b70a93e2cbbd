"""Every lesson runs in its default mode and every claim it prints holds.

Each lessons/NN_topic.py is run as a student would run it, in a subprocess from the
repository root, and fails the test if it exits non-zero, prints a 'check: FAILED' line,
prints no checks at all, or announces a figure it did not write. The lessons run two at a
time (the machine's two cores), each with single-threaded BLAS: two multi-threaded BLAS
pools on two shared cores slow the small matrix products of training several-fold.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
# A lesson aims at well under 15 s; this only catches a pathological slowdown on a busy machine.
TIME_LIMIT = 120


def run_lesson(name: str, out: Path):
    env = {**os.environ, "MPLBACKEND": "Agg", **THREADS}
    start = time.perf_counter()
    command = [sys.executable, str(ROOT / "lessons" / name), "--out", str(out)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc, time.perf_counter() - start


@pytest.fixture(scope="module")
def lesson_runs(request, tmp_path_factory):
    """Start every selected lesson at once on a pool of two workers; tests wait for their own."""
    selected = [item.callspec.params["lesson"] for item in request.session.items
                if item.module is sys.modules[__name__] and hasattr(item, "callspec")
                and "lesson" in item.callspec.params]
    out = tmp_path_factory.mktemp("lesson_output")
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(run_lesson, name, out / name) for name in selected}


def test_there_are_eleven_lessons_in_the_seeds_order():
    assert [name[:3] for name in LESSONS] == [f"{i:02d}_" for i in range(1, 12)], LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_and_every_check_holds(lesson, lesson_runs):
    proc, seconds = lesson_runs[lesson].result()
    out = proc.stdout
    report = f"{lesson} (exit {proc.returncode}, {seconds:.1f} s)\n--- stdout ---\n{out[-4000:]}\n" \
             f"--- stderr ---\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, report
    assert "check: FAILED" not in out, report
    assert re.search(r"^check: ok", out, re.M), f"{lesson} printed no checks\n{report}"
    assert re.search(r"^all \d+ checks ok$", out, re.M), report
    figures = re.findall(r"^figure: (.+)$", out, re.M)
    assert figures, f"{lesson} announced no figure\n{report}"
    for figure in figures:
        path = Path(figure)
        assert path.is_file() and path.stat().st_size > 5000, f"{lesson}: {figure} missing or empty"
    assert seconds < TIME_LIMIT, f"{lesson} took {seconds:.1f} s"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_header_says_what_it_shows_and_how_to_run_it(lesson):
    doc = ast.get_docstring(ast.parse((ROOT / "lessons" / lesson).read_text(encoding="utf-8")))
    assert doc and doc.startswith(f"Lesson {lesson[:2]}:"), f"{lesson} needs a docstring 'Lesson NN: ...'"
    assert f"python lessons/{lesson}" in doc, f"{lesson}'s header must say how to run it"
    assert "lessons/output/" in doc, f"{lesson}'s header must name the figures it writes"


def test_readme_lists_every_lesson_with_its_figures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Lessons" in readme
    section = readme.split("## Lessons", 1)[1].split("\n## ", 1)[0]
    for lesson in LESSONS:
        doc = ast.get_docstring(ast.parse((ROOT / "lessons" / lesson).read_text(encoding="utf-8")))
        assert lesson in section, f"README's Lessons section does not list {lesson}"
        for figure in set(re.findall(r"\b(\d\d_\w+\.png)", doc)):
            assert figure in section, f"README's Lessons section does not name {lesson}'s figure {figure}"


def test_a_failed_check_is_printed_and_fails_the_lesson(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "lessons"))
    import _common

    check = _common.Checks()
    assert check(True, "a true claim 1 = 1") is True
    assert check(False, "a false claim 1 = 2") is False
    assert check.finish() == 1
    out = capsys.readouterr().out
    assert "check: ok      a true claim 1 = 1" in out and "check: FAILED  a false claim 1 = 2" in out
    assert "1 of 2 checks FAILED" in out
    clean = _common.Checks()
    clean(True, "fine")
    assert clean.finish() == 0
