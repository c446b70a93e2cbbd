"""The grader: run each exercise's checks on a student's folder, never in this process.

For every exercise file the grader starts ``python -m numvae.exercises.runner`` in a
fresh interpreter (``sys.executable``) and watches the JSON lines it writes to a
temporary file (see ``runner``). A check that runs longer than the time limit has its
process group killed and is marked failed; the grader then starts a new process at the
next check, so one infinite loop costs one check, not the whole exercise. A process that
dies (os._exit, a crash) fails the check it was running, with the tail of its output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .catalog import Exercise, select

DEFAULT_TIMEOUT = 10.0  # seconds per check; the reference needs well under one
STARTUP_TIMEOUT = 120.0  # the runner's own imports (numpy, numvae) on a loaded machine
POLL_SECONDS = 0.02
MAX_OUTPUT_BYTES = 10_000_000  # a print inside a loop must not fill the disk before the time limit


@dataclass(frozen=True)
class CheckResult:
    """One line of the grade table."""

    exercise: str
    check: str
    passed: bool
    message: str = ""


def _environment() -> dict[str, str]:
    """The runner's environment: this numvae first on the path, one BLAS thread, no .pyc."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env.update(PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _read_records(path: Path) -> list[dict]:
    """The complete JSON lines written so far (a half-written last line is left for later)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the last piece is "" or a line still being written
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # the student's code wrote into our file; ignore the line
            continue
    return records


def _kill(proc: subprocess.Popen) -> None:
    """Kill the runner and anything it started (it leads its own process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(path: Path, limit: int = 400) -> str:
    """The last ``limit`` characters the process printed (read from the end of the file)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 4 * limit))
            text = f.read().decode("utf-8", errors="replace").strip()
    except FileNotFoundError:
        return ""
    return text if len(text) <= limit else "..." + text[-limit:]


def _run_once(path: Path, exercise: Exercise, start: int, workdir: Path, timeout: float):
    """Run the checks from index ``start`` in one subprocess.

    Returns (records, ended, output): ended is ('timeout', phase), ('output', phase) (it
    printed more than MAX_OUTPUT_BYTES) or ('exit', status), phase 'startup', 'import' or
    the index of the check that was running; output is the tail of what it printed.
    """
    results = workdir / f"results-{start}.jsonl"
    log = workdir / f"output-{start}.txt"
    command = [sys.executable, "-m", "numvae.exercises.runner", exercise.name, str(path), str(results),
               "--start", str(start)]
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=subprocess.STDOUT, env=_environment(),
                                start_new_session=os.name == "posix")
        phase, phase_began, seen = "startup", time.monotonic(), 0
        while proc.poll() is None:
            records = _read_records(results)
            for record in records[seen:]:
                event = record.get("event")
                if event == "ready":
                    phase, phase_began = "import", time.monotonic()
                elif event in ("import", "result"):
                    phase, phase_began = "between", time.monotonic()
                elif event == "start":
                    phase, phase_began = record["index"], time.monotonic()
            seen = len(records)
            limit = STARTUP_TIMEOUT if phase == "startup" else timeout
            if time.monotonic() - phase_began > limit:
                _kill(proc)
                return _read_records(results), ("timeout", phase), _tail(log)
            if log.stat().st_size > MAX_OUTPUT_BYTES:
                _kill(proc)
                return _read_records(results), ("output", phase), _tail(log)
            time.sleep(POLL_SECONDS)
    return _read_records(results), ("exit", proc.returncode), _tail(log)


def _stopped(how: str, detail, timeout: float, shown: str) -> str:
    """Why the grader stopped the process (or how it ended), for the check it was running."""
    if how == "timeout":
        return f"did not finish within {timeout:g} s (an endless loop?)"
    if how == "output":
        return f"printed more than {MAX_OUTPUT_BYTES // 1_000_000} MB (a print inside a loop?)"
    return f"the grading process ended with status {detail} (os._exit? a crash?){shown}"


def _import_failure(records, exercise, how, detail, timeout, shown) -> str | None:
    """Why the student's file could not be imported, or None when it was."""
    imported = [r for r in records if r.get("event") == "import"]
    if imported:
        return None if imported[0]["ok"] else imported[0]["message"]
    if how == "timeout" and detail == "startup":
        return f"the grading process did not start within {STARTUP_TIMEOUT:g} s"
    return f"importing {exercise.file}: {_stopped(how, detail, timeout, shown)}"


def run_exercise(folder: Path, exercise: Exercise, timeout: float = DEFAULT_TIMEOUT) -> list[CheckResult]:
    """Grade one exercise file of a student's folder: one CheckResult per check.

    Each check (and the import of the file) may run ``timeout * exercise.time_factor`` seconds.
    """
    timeout = _check_timeout(timeout) * exercise.time_factor
    names = exercise.check_names()
    path = Path(folder) / exercise.file
    if not path.is_file():
        return [CheckResult(exercise.name, n, False, f"{exercise.file} not found in {folder}") for n in names]
    outcome: dict[int, CheckResult] = {}
    start = 0
    with tempfile.TemporaryDirectory(prefix="numvae-grade-") as tmp:
        while start < len(names):
            records, (how, detail), output = _run_once(path.resolve(), exercise, start, Path(tmp), timeout)
            for record in records:
                if record.get("event") == "result":
                    i = record["index"]
                    outcome[i] = CheckResult(exercise.name, names[i], record["passed"], record["message"])
            shown = f"; its output ended with: {output}" if output else ""
            reason = _import_failure(records, exercise, how, detail, timeout, shown)
            if reason is not None:
                for i in range(start, len(names)):
                    outcome.setdefault(i, CheckResult(exercise.name, names[i], False, reason))
                break
            started = [r["index"] for r in records if r.get("event") == "start"]
            hung = started[-1] if started and started[-1] not in outcome else None
            if hung is None:
                break  # the runner finished every check it was asked to run
            message = _stopped(how, detail, timeout, shown)
            if hung + 1 < len(names):
                message += "; the checks after it ran in a fresh process"
            outcome[hung] = CheckResult(exercise.name, names[hung], False, message)
            start = hung + 1
    not_run = "not run (the grading process stopped early)"
    return [outcome.get(i, CheckResult(exercise.name, n, False, not_run)) for i, n in enumerate(names)]


def _check_timeout(timeout: float) -> float:
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _check_jobs(jobs: int) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    return jobs


def check_folder(folder, names=None, *, timeout: float = DEFAULT_TIMEOUT, jobs: int = 1) -> list[CheckResult]:
    """Grade a student's folder: the named exercises (all when None), in the catalog's order.

    ``jobs`` exercise files are graded at the same time, each in its own subprocess.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder must be an existing directory, got {str(folder)!r}")
    timeout, jobs = _check_timeout(timeout), _check_jobs(jobs)
    exercises = select(names)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_exercise = list(pool.map(lambda e: run_exercise(folder, e, timeout), exercises))
    return [result for results in per_exercise for result in results]


def student_folders(submissions) -> list[Path]:
    """The sub-folders of ``submissions``, one per student, sorted by name (hidden ones skipped)."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions must be an existing directory, got {str(submissions)!r}")
    folders = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        raise ValueError(f"submissions must hold one sub-folder per student; {str(submissions)!r} has none")
    return folders


def grade_submissions(submissions, names=None, *, timeout: float = DEFAULT_TIMEOUT,
                      jobs: int = 1) -> dict[str, list[CheckResult]]:
    """Grade every student's sub-folder: {student folder name: its CheckResults}."""
    folders = student_folders(submissions)
    timeout, jobs = _check_timeout(timeout), _check_jobs(jobs)
    exercises = select(names)
    tasks = [(folder, exercise) for folder in folders for exercise in exercises]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda t: run_exercise(t[0], t[1], timeout), tasks))
    grades: dict[str, list[CheckResult]] = {folder.name: [] for folder in folders}
    for (folder, _), exercise_results in zip(tasks, results, strict=True):
        grades[folder.name].extend(exercise_results)
    return grades


def results_as_dicts(results: list[CheckResult]) -> list[dict]:
    return [asdict(r) for r in results]
