"""The grading subprocess: import one student file and run its exercise's checks.

    python -m numvae.exercises.runner EXERCISE STUDENT_FILE RESULT_FILE [--start I]

The grader (``grader.py``) starts this in a fresh interpreter, so nothing the student's
code does (loop forever, crash, call sys.exit or os._exit, print) can hang or kill the
grader. Results go to RESULT_FILE, not stdout, so the student's prints cannot corrupt
them: one JSON object per line, written and flushed as soon as it is known,

    {"event": "ready"}                                  the grader's own imports are done
    {"event": "import", "ok": true}                     the student's file imported (or a message)
    {"event": "start", "index": i}                      check i is running
    {"event": "result", "index": i, "passed": ..., "message": ...}

so that when the grader has to kill the process it knows which check was running.
Checks before ``--start`` are skipped (the grader restarts after a check that hung).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import traceback
from pathlib import Path

import numpy as np

from .catalog import get_exercise
from .compare import CheckFailure


def _describe_exit(err: SystemExit) -> str:
    return f"called sys.exit({err.code!r}); a function must return its result, not end the program"


def _describe_import_error(err: BaseException, path: Path) -> str:
    if isinstance(err, SystemExit):
        return f"importing {path.name} {_describe_exit(err)}"
    if isinstance(err, SyntaxError):
        return f"{path.name} has a syntax error on line {err.lineno}: {err.msg}"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).resolve() == path]
    where = f" (line {frames[-1].lineno})" if frames else ""
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"importing {path.name} raised {type(err).__name__}{where}: {first_line}"


def _load(path: Path):
    """Import the student's file as a module; its folder goes at the *end* of sys.path so
    the student's other files can be imported without shadowing numpy or numvae."""
    sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _run_check(check, student, rng) -> tuple[bool, str]:
    try:
        check.run(student, rng)
    except CheckFailure as failure:
        return False, str(failure)
    except SystemExit as err:
        return False, _describe_exit(err)
    except KeyboardInterrupt:
        return False, "raised KeyboardInterrupt"
    except Exception as err:  # an unexpected error in the student's code path
        last = traceback.extract_tb(err.__traceback__)[-1]
        return False, (f"unexpected {type(err).__name__}: {err} (line {last.lineno} of "
                       f"{Path(last.filename).name})")
    return True, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m numvae.exercises.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercise")
    parser.add_argument("student_file", type=Path)
    parser.add_argument("result_file", type=Path)
    parser.add_argument("--start", type=int, default=0, help="index of the first check to run")
    args = parser.parse_args(argv)

    exercise = get_exercise(args.exercise)
    module = exercise.checks_module()
    path = args.student_file.resolve()
    with open(args.result_file, "a", encoding="utf-8") as out:
        def emit(**record):
            out.write(json.dumps(record) + "\n")
            out.flush()

        emit(event="ready")
        if hasattr(module, "prepare"):
            module.prepare()
        try:
            student = _load(path)
        except BaseException as err:  # the student's file, whatever it raised
            emit(event="import", ok=False, message=_describe_import_error(err, path))
            return 0
        emit(event="import", ok=True)
        for index, check in enumerate(module.CHECKS):
            if index < args.start:
                continue
            emit(event="start", index=index)
            rng = np.random.default_rng([exercise.number, index])
            passed, message = _run_check(check, student, rng)
            emit(event="result", index=index, passed=passed, message=message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
