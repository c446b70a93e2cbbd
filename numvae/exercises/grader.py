"""The grader: run each exercise's checks on a student's folder, the student's code in a child.

For every exercise file the grader starts a child (``session``, ``sandbox``) that imports
the student's file, confined (``confine``) and with numvae's answers turned into traps
(``traps``). The checks run here, in the grader's process: they make the inputs from their
own seeded Generator, call the student's functions through the child, and compute the
references, the comparisons, the finite differences, the hints and the score with numvae.
The grader never imports the student's file, and what the child sends is data: nothing
it writes, prints, patches or exits with can change a verdict, except through the values
it returns for the inputs it was given.

Each check may take ``timeout * exercise.time_factor`` seconds of the child's time. A
check that runs longer has the child's process group killed and fails; so does a check
during which the child dies (os._exit, a crash), floods its output or breaks the
protocol. The next check then runs in a fresh child, so one infinite loop costs one
check, not the whole exercise.

Scores: a consistency check (``checks.Check.value`` False) that passed counts only once
the value checks it depends on passed: zeros, constants and inputs handed back unchanged
score exactly 0. ``seed`` (the instructor's ``--seed``) changes every random input, so a
file that hard-codes the outputs of ``check`` fails ``grade``.

``SourceGuard`` hashes numvae's source files when grading starts and after every file graded.
Landlock already forbids the child to write them; where Landlock is missing a change is
noticed, the file being graded when it happened scores 0, and ``incidents`` tells the
instructor (the command line exits with status 3).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .catalog import Exercise, select
from .compare import CheckFailure
from .session import (
    MAX_OUTPUT_BYTES,
    PACKAGE_ROOT,
    STARTUP_TIMEOUT,
    Child,
    ChildStopped,
    Limits,
    Submission,
    describe_status,
)
from .session import _fork_server_wanted as fork_server_wanted

DEFAULT_TIMEOUT = 10.0  # seconds per check; the reference needs well under one
DEFAULT_MEMORY_MB = 2048


@dataclass(frozen=True)
class CheckResult:
    """One line of the grade table."""

    exercise: str
    check: str
    passed: bool
    message: str = ""


# ----- numvae's files on disk --------------------------------------------------------------------------

class SourceGuard:
    """SHA-256 of every file of the numvae package, to notice a change made while grading."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else PACKAGE_ROOT / "numvae"
        self._lock = threading.Lock()
        self.hashes = self._scan()
        self.incidents: list[tuple[str, list[str]]] = []  # (what was being graded, files changed)
        self.confinement: dict = {}  # the weakest confinement any child reported

    def note(self, report: dict) -> None:
        """Remember the weakest confinement a child reported (for the instructor's warning)."""
        landlock = report.get("landlock") if isinstance(report.get("landlock"), int) else 0
        seccomp = report.get("seccomp") is True
        with self._lock:
            self.confinement["landlock"] = min(landlock, self.confinement.get("landlock", landlock))
            self.confinement["seccomp"] = seccomp and self.confinement.get("seccomp", True)

    def _scan(self) -> dict[str, str]:
        hashes = {}
        for path in sorted(self.root.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            try:
                hashes[path.relative_to(self.root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                hashes[path.relative_to(self.root).as_posix()] = "unreadable"
        return hashes

    def check(self, culprit: str) -> list[str]:
        """The files changed since the last check (now blamed on ``culprit``), or []."""
        with self._lock:
            now = self._scan()
            changed = sorted(k for k in set(now) | set(self.hashes) if now.get(k) != self.hashes.get(k))
            if changed:
                self.incidents.append((culprit, changed))
                self.hashes = now
            return changed


# ----- running one exercise ------------------------------------------------------------------------------

def _seed_entropy(seed: int | None, number: int, index: int) -> list[int]:
    """The students' inputs without a seed (reproducible), hidden ones with the instructor's."""
    return [number, index] if seed is None else [number, index, 0x5EED, seed]


def _stopped(stop: ChildStopped, timeout: float, limits: Limits) -> str:
    """Why the grader stopped the child (or how it ended), for the check that was running."""
    shown = f"; its output ended with: {stop.output}" if stop.output else ""
    if stop.how == "timeout":
        return f"did not finish within {timeout:g} s (an endless loop?)"
    if stop.how == "output":
        return f"printed more than {MAX_OUTPUT_BYTES // 1_000_000} MB (a print inside a loop?)"
    if stop.how == "protocol":
        return (f"the grading process sent the grader something that is not a reply ({stop.detail}); a "
                f"function must return its result{shown}")
    if stop.how == "startup":
        return f"the grading process did not start ({stop.detail}){shown}"
    status = describe_status(stop.detail)
    if status == "signal SIGXCPU":
        return f"used more than its {limits.cpu_seconds} s of CPU time{shown}"
    if status.startswith("signal"):
        return (f"the grading process was killed by {status.split()[1]} (a crash? more than the memory "
                f"limit of {limits.memory_mb} MiB?){shown}")
    return f"the grading process ended with {status} (os._exit? a crash?){shown}"


def _confinement_wanted() -> tuple[bool, bool]:
    """Landlock and seccomp are on unless NUMVAE_GRADER_LANDLOCK=0 / NUMVAE_GRADER_SECCOMP=0."""
    return (os.environ.get("NUMVAE_GRADER_LANDLOCK", "1") != "0",
            os.environ.get("NUMVAE_GRADER_SECCOMP", "1") != "0")


def _start_child(path: Path, exercise: Exercise, limits: Limits, timeout: float) -> Child:
    child = Child(path, limits)
    try:
        child.start(exercise.name, exercise.trapped(), exercise.needs_hypothesis, timeout)
    except BaseException:
        child.end()
        raise
    return child


def _import_failure(stop: ChildStopped, exercise: Exercise, timeout: float, limits: Limits) -> str:
    if stop.how == "startup" and stop.detail is None:
        return f"the grading process did not start within {STARTUP_TIMEOUT:g} s"
    return f"importing {exercise.file}: {_stopped(stop, timeout, limits)}"


def apply_gates(results: list[CheckResult], exercise: Exercise) -> list[CheckResult]:
    """A passed consistency check that waits for value checks which failed is not counted."""
    checklist = exercise.checks_module().CHECKS
    passed = {r.check: r.passed for r in results}
    out = []
    for result, check in zip(results, checklist, strict=True):
        if result.passed and not check.value:
            gate = checklist.gate(check)
            ok = any(passed[g] for g in gate) if check.after_any else all(passed[g] for g in gate)
            if not ok:
                if check.after is None:
                    waits = "the checks that compare your values with the right ones pass"
                elif len(gate) == 1:
                    waits = f"'{gate[0]}' passes"
                else:
                    listed = ", ".join(f"'{g}'" for g in gate)
                    waits = f"one of {listed} passes" if check.after_any else f"all of {listed} pass"
                result = replace(result, passed=False, message=(
                    "not counted: a constant answer (or an input handed back) passes this check too, so it "
                    f"counts once {waits}"))
        out.append(result)
    return out


def run_exercise(folder, exercise: Exercise, timeout: float = DEFAULT_TIMEOUT, *, seed: int | None = None,
                 memory_mb: int = DEFAULT_MEMORY_MB, guard: SourceGuard | None = None) -> list[CheckResult]:
    """Grade one exercise file of a student's folder: one CheckResult per check.

    Each check (and the import of the file) may run ``timeout * exercise.time_factor`` seconds.
    """
    timeout = _check_timeout(timeout) * exercise.time_factor
    memory_mb = _check_memory(memory_mb)
    checks = exercise.checks()
    names = [c.name for c in checks]
    path = Path(folder) / exercise.file
    if not path.is_file():
        return [CheckResult(exercise.name, n, False, f"{exercise.file} not found in {folder}") for n in names]
    path = path.resolve()
    guard = guard if guard is not None else SourceGuard()
    landlock, seccomp = _confinement_wanted()
    limits = Limits(timeout, memory_mb, int(timeout * (len(checks) + 2)) + 30, landlock, seccomp)
    submission = Submission(exercise.file, None, memory_mb)
    outcome: dict[int, tuple[bool, str]] = {}
    child: Child | None = None
    blocked: str | None = None  # why no check can run any more (the file cannot be imported, ...)
    try:
        for index, check in enumerate(checks):
            if blocked is None and guard.incidents and not fork_server_wanted():
                blocked = ("not graded: numvae's own files changed on disk during this run (see the "
                           "instructor's warning); restore them and grade again")
            if blocked is not None:
                outcome[index] = (False, blocked)
                continue
            if child is None or check.fresh:
                if child is not None:
                    child.end()
                    child = None
                try:
                    child = _start_child(path, exercise, limits, timeout)
                except ChildStopped as stop:
                    blocked = _import_failure(stop, exercise, timeout, limits)
                    outcome[index] = (False, blocked)
                    continue
                guard.note(child.confinement)
                if child.import_error is not None:
                    blocked = child.import_error
                    outcome[index] = (False, blocked)
                    continue
                submission.child = child
            outcome[index] = _run_check(check, submission, child, timeout, limits,
                                        np.random.default_rng(_seed_entropy(seed, exercise.number, index)))
            if not child.alive_after_check:
                if not outcome[index][0] and index + 1 < len(checks):
                    message = outcome[index][1] + "; the checks after it ran in a fresh process"
                    outcome[index] = (False, message)
                child.end()
                child = None
    finally:
        if child is not None:
            child.end()
    results = apply_gates([CheckResult(exercise.name, n, *outcome[i]) for i, n in enumerate(names)], exercise)
    changed = guard.check(f"{Path(folder).name}/{exercise.file}")
    if changed:
        shown = ", ".join(f"numvae/{c}" for c in changed[:5]) + (" ..." if len(changed) > 5 else "")
        results = [replace(r, passed=False, message=(
            f"numvae's own files changed on disk while {exercise.file} was graded ({shown}): tampering "
            "with the grader scores 0, and the instructor is told")) for r in results]
    return results


def _run_check(check, submission: Submission, child: Child, timeout: float, limits: Limits,
               rng: np.random.Generator) -> tuple[bool, str]:
    child.deadline = time.monotonic() + timeout
    child.alive_after_check = True
    try:
        child.request({"op": "reset"})
        check.run(submission, rng)
    except CheckFailure as failure:
        return False, str(failure)
    except ChildStopped as stop:
        child.alive_after_check = False
        return False, _stopped(stop, timeout, limits)
    except Exception as err:  # a returned value that the check could not use
        return False, (f"the grader could not use what {submission.file} returned ({type(err).__name__}: "
                       f"{str(err)[:200]})")
    return True, ""


def _check_timeout(timeout: float) -> float:
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _check_memory(memory_mb: int) -> int:
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 256:
        raise ValueError(f"memory_mb must be a whole number of MiB, at least 256, got {memory_mb!r}")
    return memory_mb


def _check_jobs(jobs: int) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    return jobs


def _check_seed(seed: int | None) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a whole number >= 0 or None, got {seed!r}")
    return seed


def _grade_tasks(tasks, *, timeout, jobs, seed, memory_mb, guard) -> list[list[CheckResult]]:
    timeout, jobs = _check_timeout(timeout), _check_jobs(jobs)
    seed, memory_mb = _check_seed(seed), _check_memory(memory_mb)
    for exercise in {e.number: e for _, e in tasks}.values():
        exercise.checks()  # every check module (and what it imports) loaded before any child runs
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda t: run_exercise(t[0], t[1], timeout, seed=seed, memory_mb=memory_mb,
                                                    guard=guard), tasks))


def check_folder(folder, names=None, *, timeout: float = DEFAULT_TIMEOUT, jobs: int = 1,
                 seed: int | None = None, memory_mb: int = DEFAULT_MEMORY_MB,
                 guard: SourceGuard | None = None) -> list[CheckResult]:
    """Grade a student's folder: the named exercises (all when None), in the catalog's order.

    ``jobs`` exercise files are graded at the same time, each in its own child process.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder must be an existing directory, got {str(folder)!r}")
    guard = guard if guard is not None else SourceGuard()
    tasks = [(folder, exercise) for exercise in select(names)]
    per_exercise = _grade_tasks(tasks, timeout=timeout, jobs=jobs, seed=seed, memory_mb=memory_mb,
                                guard=guard)
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


def grade_submissions(submissions, names=None, *, timeout: float = DEFAULT_TIMEOUT, jobs: int = 1,
                      seed: int | None = None, memory_mb: int = DEFAULT_MEMORY_MB,
                      guard: SourceGuard | None = None) -> dict[str, list[CheckResult]]:
    """Grade every student's sub-folder: {student folder name: its CheckResults}."""
    folders = student_folders(submissions)
    guard = guard if guard is not None else SourceGuard()
    tasks = [(folder, exercise) for folder in folders for exercise in select(names)]
    results = _grade_tasks(tasks, timeout=timeout, jobs=jobs, seed=seed, memory_mb=memory_mb, guard=guard)
    grades: dict[str, list[CheckResult]] = {folder.name: [] for folder in folders}
    for (folder, _), exercise_results in zip(tasks, results, strict=True):
        grades[folder.name].extend(exercise_results)
    return grades


def results_as_dicts(results: list[CheckResult]) -> list[dict]:
    return [asdict(r) for r in results]
