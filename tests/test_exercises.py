"""The exercises and their grader: reference solutions get full marks, skeletons zero.

The reference solutions live in tests/exercise_solutions/ (never handed out by ``init``).
They are written out, as a student would write them: numvae's own answers are traps
while grading, and only what an exercise may use (exercise 8: the primitives of 2 to 7;
exercise 10: kl_mvn) is called. test_exercises_mutants.py breaks them the way students
do; test_grader_*.py attack the grader.
"""

import ast
import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from numvae.cli import main
from numvae.exercises import EXERCISES, CheckResult, check_folder, get_exercise, init_folder
from numvae.exercises.compare import CheckFailure, assert_close
from numvae.exercises.handout import skeleton_text
from numvae.exercises.report import format_table, grades_csv

SOLUTIONS = Path(__file__).parent / "exercise_solutions"


@pytest.fixture(scope="module")
def reference_results():
    return check_folder(SOLUTIONS, jobs=2)


@pytest.fixture(scope="module")
def skeleton_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("skeletons")
    init_folder(folder)
    return folder


def test_reference_solutions_get_full_marks(reference_results):
    failed = [f"{r.exercise} / {r.check}: {r.message}" for r in reference_results if not r.passed]
    assert not failed, "\n".join(failed)
    expected = {e.name: len(e.check_names()) for e in EXERCISES}
    assert {e: sum(r.exercise == e for r in reference_results) for e in expected} == expected


def test_reference_solutions_get_full_marks_on_hidden_inputs():
    # --seed draws other inputs (kl_properties has none to draw: its suites are the same)
    names = [e.name for e in EXERCISES if e.name != "kl_properties"]
    for seed in (7, 2 ** 40 + 3):
        results = check_folder(SOLUTIONS, names, jobs=2, seed=seed)
        failed = [f"{r.exercise} / {r.check}: {r.message}" for r in results if not r.passed]
        assert not failed, f"seed {seed}: " + "\n".join(failed)


class _Recorder:
    """A stand-in for a student's file that records what the first call of a check sends."""

    file = "recorder.py"

    def __init__(self):
        self.sent = None

    def has(self, name):
        return True

    def function(self, name):
        recorder = self

        class Fn:
            def __call__(self, *args, **kwargs):
                return self.record(args, kwargs)

            def keeping_arguments(self, *args, **kwargs):
                return self.record(args, kwargs)

            def map(self, calls, pick=()):
                return self.record(calls, {})

            def record(self, args, kwargs):
                leaves = _leaves((args, kwargs))
                recorder.sent = [a for a in leaves if isinstance(a, (np.ndarray, float, int))]
                raise CheckFailure("recorded")

        return Fn()


def _leaves(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _sent(check, rng):
    student = _Recorder()
    try:
        check.run(student, rng)
    except CheckFailure:
        pass
    return student.sent


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.name != "kl_properties"],
                         ids=lambda e: e.name)
def test_every_check_sends_other_inputs_with_a_hidden_seed(exercise):
    """A file that answers the students' inputs from a table fails 'grade --seed': the first
    call of every check sends different numbers with the instructor's seed."""
    from numvae.exercises.grader import _seed_entropy

    for index, check in enumerate(exercise.checks()):
        default = _sent(check, np.random.default_rng(_seed_entropy(None, exercise.number, index)))
        again = _sent(check, np.random.default_rng(_seed_entropy(None, exercise.number, index)))
        hidden = _sent(check, np.random.default_rng(_seed_entropy(99, exercise.number, index)))
        assert default, f"{check.name} sent nothing"
        same = len(default) == len(hidden) and all(
            np.array_equal(a, b) for a, b in zip(default, hidden, strict=True))
        assert not same, f"{check.name} sends the same inputs whatever the seed"
        assert all(np.array_equal(a, b) for a, b in zip(default, again, strict=True))  # reproducible


def test_untouched_skeletons_get_zero(skeleton_folder):
    results = check_folder(skeleton_folder, jobs=2)
    assert len(results) == sum(len(e.check_names()) for e in EXERCISES)
    assert not [r for r in results if r.passed]
    for r in results:  # every failure says why: not implemented, naming the exercise
        assert r.message.startswith(("not implemented yet", "not counted")), r.message
        if r.message.startswith("not implemented yet"):
            number = get_exercise(r.exercise).number
            assert f"exercise {number} ({r.exercise})" in r.message, r.message


def _functions(source: str) -> dict[str, list[str]]:
    """The public functions a file defines, with their argument names (helpers _x left out)."""
    tree = ast.parse(source)
    return {node.name: [a.arg for a in node.args.args]
            for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_skeleton_declares_what_the_solution_implements(exercise):
    skeleton = _functions(skeleton_text(exercise))
    solution = _functions((SOLUTIONS / exercise.file).read_text())
    if exercise.name == "kl_properties":  # the student writes their own tests, taking kl first
        tests = {name: args for name, args in {**skeleton, **solution}.items() if name.startswith("test")}
        assert tests and all(args[0] == "kl" for args in tests.values())
        return
    assert skeleton == solution
    tree = ast.parse(skeleton_text(exercise))
    for node in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        assert "Shapes:" in (ast.get_docstring(node) or ""), f"{node.name} has no shapes in its docstring"
        raised = node.body[-1]
        assert isinstance(raised, ast.Raise)
        assert f"exercise {exercise.number} ({exercise.name})" in ast.unparse(raised)


def test_init_writes_the_skeletons_only_and_keeps_student_work(tmp_path):
    written, kept = init_folder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(e.file for e in EXERCISES)
    assert len(written) == len(EXERCISES) and not kept
    work = tmp_path / EXERCISES[0].file
    work.write_text("# my answer\n")
    written, kept = init_folder(tmp_path)
    assert kept and work in kept and work.read_text() == "# my answer\n"
    init_folder(tmp_path, ["1"], force=True)
    assert work.read_text() == skeleton_text(EXERCISES[0])


def test_init_refuses_a_file_and_unknown_names(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    with pytest.raises(ValueError, match="folder must be a directory"):
        init_folder(path)
    with pytest.raises(ValueError, match="unknown exercise 'kl_typo'"):
        init_folder(tmp_path / "new", ["kl_typo"])


def test_cli_list_and_check_exit_status(tmp_path, capsys):
    assert main(["exercises", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(EXERCISES)
    assert all(e.file in line for e, line in zip(EXERCISES, lines, strict=True))

    assert all(f"{e.points:g} points" in line for e, line in zip(EXERCISES, lines, strict=True))

    assert main(["exercises", "check", str(SOLUTIONS), "kl_mvn", "6"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[1:4]] == ["passed"] * 3
    assert table[-1] == "3 of 3 checks passed; 1 of 1 exercises complete; 6 of 6 points"

    assert main(["exercises", "init", str(tmp_path), "kl_mvn"]) == 0
    capsys.readouterr()
    assert main(["exercises", "check", str(tmp_path), "kl_mvn", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] == 0 and report["total"] == 3
    (exercise,) = report["exercises"]
    assert exercise["name"] == "kl_mvn" and exercise["score"] == 0 and exercise["points"] == 0
    assert exercise["max_points"] == get_exercise("kl_mvn").points
    assert all("not implemented yet" in c["message"] for c in exercise["checks"])


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(["exercises", "check", str(tmp_path / "missing")]) == 2
    assert "folder must be an existing directory" in capsys.readouterr().err
    assert main(["exercises", "check", str(tmp_path), "no_such_exercise"]) == 2
    assert "unknown exercise 'no_such_exercise'" in capsys.readouterr().err
    for bad in ("0", "inf", "nan"):
        with pytest.raises(SystemExit):
            main(["exercises", "check", str(tmp_path), "--timeout", bad])
        assert "argument --timeout: expected a positive finite number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["exercises", "check", str(tmp_path), "--memory-mb", "100"])
    assert "at least 256 MiB" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["exercises", "grade", str(tmp_path), "--csv", "g.csv", "--seed", "-1"])
    assert "a whole number >= 0" in capsys.readouterr().err


def test_grade_writes_one_row_per_student(tmp_path, capsys):
    subs = tmp_path / "submissions"
    alice, bob, carol = subs / "alice", subs / "bob", subs / "carol"
    alice.mkdir(parents=True)
    for name in ("ex01_numerical_gradient.py", "ex06_kl_mvn.py"):
        shutil.copy(SOLUTIONS / name, alice / name)
    init_folder(bob, ["1", "6"])
    carol.mkdir()  # handed in nothing
    (carol / "ex06_kl_mvn.py").write_text("import numpy as np\n\ndef kl_mvn(mu0, cov0, mu1, cov1):\n"
                                          "    return 0.0\n")
    out, details = tmp_path / "grades.csv", tmp_path / "details.json"
    assert main(["exercises", "grade", str(subs), "numerical_gradient", "kl_mvn", "--csv", str(out),
                 "--details", str(details), "--jobs", "2"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    assert list(rows[0]) == ["student", "numerical_gradient", "kl_mvn", "total"]
    # points, as the catalog gives them (6 and 6)
    assert rows[0] == {"student": "alice", "numerical_gradient": "6.0", "kl_mvn": "6.0", "total": "12.0"}
    assert rows[1]["total"] == "0.0"
    # carol's constant 0 is right for identical Gaussians, a check a constant passes: no marks
    assert rows[2] == {"student": "carol", "numerical_gradient": "0.0", "kl_mvn": "0.0", "total": "0.0"}
    details = json.loads(details.read_text())
    carol_checks = details["carol"]["exercises"][0]["checks"]
    assert all("ex01_numerical_gradient.py not found" in c["message"] for c in carol_checks)
    assert details["alice"]["points"] == 12 and details["alice"]["max_points"] == 12
    zero = details["carol"]["exercises"][1]["checks"][1]
    assert zero["check"] == "kl_mvn is 0 for two identical Gaussians" and not zero["passed"]
    assert zero["message"].startswith("not counted: a constant answer")
    printed = capsys.readouterr().out
    assert "total (of 12 points)" in printed and "alice    12" in printed


def test_grade_needs_student_folders(tmp_path):
    assert main(["exercises", "grade", str(tmp_path), "--csv", str(tmp_path / "g.csv")]) == 2
    assert not (tmp_path / "g.csv").exists()


# ----- the pieces of the grader that run in this process (no student code) -----------------

def test_assert_close_names_index_values_and_error():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    received = expected.copy()
    received[1, 0] = 3.5
    with pytest.raises(CheckFailure) as info:
        assert_close("dW", received, expected, context={"x": np.full((2, 2), 7.0)})
    message = str(info.value)
    assert message.startswith("dW[1, 0]: expected 3, received 3.5 (where x[1, 0] = 7)")
    assert "relative error 6.2e-02" in message
    assert_close("dW", expected + 1e-9, expected)  # within the 1e-6 bar


@pytest.mark.parametrize("transform, fragment", [
    (lambda e: -e, "the sign is flipped"),
    (lambda e: e / 8, "received = 0.125 x expected"),
    (lambda e: e + 1.5, "received = expected +1.5 everywhere"),
    (lambda e: 0 * e, "received all zeros"),
])
def test_assert_close_names_the_generic_mistake(transform, fragment):
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(CheckFailure, match="hint: .*" + re.escape(fragment)):
        assert_close("out", transform(expected), expected)


def test_assert_close_prefers_the_named_mistake_and_reports_shape_and_nonfinite():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(CheckFailure, match="hint: averaged") as info:
        assert_close("out", expected / 3, expected, mistakes={"averaged": expected / 3})
    assert "constant factor" not in str(info.value)
    with pytest.raises(CheckFailure, match=r"expected shape \(2, 3\), received shape \(3, 2\) \(transposed"):
        assert_close("out", expected.T, expected)
    with pytest.raises(CheckFailure, match=r"out\[0, 1\]: expected 2, received inf.*1 of 6 entries"):
        assert_close("out", np.where(expected == 2, np.inf, expected), expected)
    with pytest.raises(CheckFailure, match="received None"):
        assert_close("out", None, expected)


def test_table_has_one_line_per_check_and_a_summary():
    exercise = get_exercise("kl_mvn")
    failure = "kl[0]: expected 1, received 2\n  hint: x"
    results = [CheckResult("kl_mvn", name, i != 1, "" if i != 1 else failure)
               for i, name in enumerate(exercise.check_names())]
    table = format_table(results, [exercise]).splitlines()
    # heading, checks with the failure's message and hint under it, blank, summary
    assert len(table) == 1 + 3 + 2 + 1 + 1
    assert table[0] == "ex06_kl_mvn: 2 of 3 checks passed, 4 of 6 points"
    assert table[2].split() == ["FAIL", *exercise.check_names()[1].split()]
    assert table[3] == " " * 10 + "kl[0]: expected 1, received 2" and table[4] == " " * 10 + "hint: x"
    assert table[-1] == "2 of 3 checks passed; 0 of 1 exercises complete; 4 of 6 points"
    assert grades_csv({"s": results}, [exercise]).splitlines() == ["student,kl_mvn,total", "s,4.0,4.0"]


def test_table_lines_fit_in_100_columns():
    exercise = get_exercise("iwae")
    long_message = ("iwae_estimate(log_w)[1]: expected -1002.31, received -1001.21; relative error 5.5e-04 "
                    "(tolerance 1e-06)\n  hint: " + "a very long hint that goes on " * 8
                    + "\n  hint: " + "x" * 150)
    results = [CheckResult("iwae", name, False, long_message) for name in exercise.check_names()]
    table = format_table(results, [exercise])
    assert max(len(line) for line in table.splitlines()) <= 100
    words = " ".join(table.split())
    assert "a very long hint that goes on " * 7 in words  # wrapped, not cut
    hint_lines = [line for line in table.splitlines() if "hint:" in line]
    assert all(line.startswith(" " * 10 + "hint: ") for line in hint_lines)


def test_generic_relation_prefers_the_offset_that_fits_exactly():
    """Near -1000 a missing -log 3 is also almost a factor 0.999: the exact fit, the offset, wins."""
    expected = -1000.0 - np.linspace(0.3, 4.7, 12).reshape(3, 4)
    with pytest.raises(CheckFailure) as info:
        assert_close("iwae_estimate(log_w)", expected + np.log(3), expected)
    assert "received = expected +1.09861 everywhere: a missing or extra constant term" in str(info.value)
    assert "constant factor" not in str(info.value)
