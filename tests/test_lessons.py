"""Every lesson runs in its default mode, every claim it prints holds, and it reads as a notebook.

Each lessons/NN_topic.py is run as a student would run it, in a subprocess from the
repository root, and fails the test if it exits non-zero, prints a 'check: FAILED' line,
prints no checks at all, or announces a figure it did not write. The lessons run two at a
time (the machine's two cores), each with single-threaded BLAS: two multi-threaded BLAS
pools on two shared cores slow the small matrix products of training several-fold.

The other tests read the lessons without running them: each is a percent-format script
(``# %%`` code cells, ``# %% [markdown]`` cells with LaTeX) whose header ``lesson_info``
can read, whose lines fit in 100 columns, and whose main() is a short list of named steps.
The plumbing that lets a lesson run in a Jupyter kernel (``numvae.plumbing.lesson``, which
every lesson imports as ``_common``) is tested with a stand-in kernel, and, where jupytext,
nbclient and ipykernel are installed, with a real one. The lessons and their subprocesses
import the numvae of this checkout (ROOT goes first on PYTHONPATH).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
# The lessons take 3 to 16 s each on one core; this only catches a pathological slowdown.
TIME_LIMIT = 120
MAX_COLUMNS = 100
MAIN_LINES = 30  # main() is a short list of named steps
STEP_LINES = 60  # each step one idea of the lecture, a few dozen lines
# what a lesson may import: the package for the math, the plumbing, and the independent
# references some lessons check numvae against
ALLOWED_IMPORTS = {"math", "numpy", "matplotlib", "scipy", "sklearn", "numvae"}
# the plumbing every lesson imports, from the package, so that a lesson copied anywhere
# (numvae lessons export) or opened alone as a notebook needs nothing but numvae installed
COMMON_IMPORT = "from numvae.plumbing import lesson as _common"
MARKERS = ("# %%", "# %% [markdown]")


def child_env() -> dict[str, str]:
    """os.environ with this checkout first on PYTHONPATH, headless matplotlib, one BLAS thread."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", **THREADS}


def run_lesson(name: str, out: Path):
    env = child_env()
    start = time.perf_counter()
    command = [sys.executable, str(ROOT / "lessons" / name), "--out", str(out)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc, time.perf_counter() - start


@pytest.fixture(scope="module")
def lesson_runs(request, tmp_path_factory):
    """Start every selected lesson at once on a pool of two workers; tests wait for their own."""
    selected = [item.callspec.params["lesson"] for item in request.session.items
                if item.module is sys.modules[__name__] and hasattr(item, "callspec")
                and "lesson" in item.callspec.params
                and "lesson_runs" in getattr(item, "fixturenames", ())]
    out = tmp_path_factory.mktemp("lesson_output")
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(run_lesson, name, out / name) for name in selected}


@pytest.fixture
def common():
    from numvae.plumbing import lesson

    return lesson


@pytest.fixture
def lesson_info():
    from numvae.plumbing.lesson_files import lesson_info

    return lesson_info


def source(lesson: str) -> str:
    return (ROOT / "lessons" / lesson).read_text(encoding="utf-8")


def cells(text: str) -> list[tuple[str, str]]:
    """[(kind, text)] of a percent-format script, kind 'markdown' or 'code'."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            found.append(("markdown" if line == "# %% [markdown]" else "code", []))
        elif found:
            found[-1][1].append(line)
    return [(kind, "\n".join(lines)) for kind, lines in found]


def test_there_are_fifteen_lessons_in_order():
    assert [name[:3] for name in LESSONS] == [f"{i:02d}_" for i in range(1, 16)], LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_and_every_check_holds(lesson, lesson_runs):
    proc, seconds = lesson_runs[lesson].result()
    out = proc.stdout
    report = (f"{lesson} (exit {proc.returncode}, {seconds:.1f} s)\n--- stdout ---\n"
              f"{out[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")
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
def test_lesson_header_says_what_it_shows_and_how_to_run_it(lesson, lesson_info):
    doc = ast.get_docstring(ast.parse(source(lesson)))
    assert doc and doc.startswith(f"Lesson {lesson[:2]}:"), f"{lesson} needs a docstring 'Lesson NN: ...'"
    assert f"python lessons/{lesson}" in doc, f"{lesson}'s header must say how to run it"
    assert "lessons/output/" in doc, f"{lesson}'s header must name the figures it writes"
    info = lesson_info(ROOT / "lessons" / lesson)  # what `numvae lessons list` shows
    assert info["number"] == int(lesson[:2]) and info["name"] == lesson[:-3]
    assert info["title"] and "\n" not in info["title"]
    assert len(info["shows"]) > 20, f"{lesson}: the 'Shows:' line says too little: {info['shows']!r}"
    assert 0 < info["seconds"] <= 60, f"{lesson}: run time {info['seconds']} s"
    assert info["figures"] and all(f.startswith(lesson[:3]) for f in info["figures"]), info


def test_lesson_info_names_what_a_header_lacks(lesson_info, tmp_path):
    lesson = tmp_path / "99_nothing.py"
    lesson.write_text('"""Lesson 99: a title.\n\nRun:  python lessons/99_nothing.py  (about 1 s)\n"""\n')
    with pytest.raises(ValueError, match="Shows:"):
        lesson_info(lesson)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_is_a_percent_format_notebook(lesson):
    text = source(lesson)
    lines = text.splitlines()
    assert lines[0] in MARKERS, f"{lesson} must start with a cell marker, got {lines[0]!r}"
    if lines[0] == "# %%":  # the first cell is the header: the module docstring
        assert lines[1].startswith(f'"""Lesson {lesson[:2]}:'), f"{lesson}: first cell {lines[1]!r}"
    for number, line in enumerate(lines, 1):
        if line.startswith("# %%"):
            assert line in MARKERS, f"{lesson}:{number}: write cell markers as {MARKERS}, got {line!r}"
    found = cells(text)
    markdown = [body for kind, body in found if kind == "markdown"]
    code = [body for kind, body in found if kind == "code"]
    assert len(markdown) >= 4 and len(code) >= 4, f"{lesson}: {len(markdown)} markdown, {len(code)} code"
    assert any("$" in body for body in markdown), f"{lesson}: no LaTeX formula in its markdown cells"
    for body in markdown:
        for line in body.strip("\n").splitlines():
            assert line == "#" or line.startswith("# "), f"{lesson}: markdown line {line!r}"
        assert body.count("$") % 2 == 0, f"{lesson}: unbalanced $ in markdown cell\n{body}"
    for i, body in enumerate(code):  # each cell runs on its own in a kernel, top to bottom
        compile(body, f"{lesson} code cell {i}", "exec")
    last = code[-1]
    assert 'if __name__ == "__main__":' in last and "_common.run(main)" in last, (
        f"{lesson}: the last cell must run main through _common.run, which exits from a shell "
        "and raises LessonFailed in a notebook kernel")


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_round_trips_through_jupytext(lesson):
    jupytext = pytest.importorskip("jupytext")
    text = source(lesson)
    notebook = jupytext.reads(text, fmt="py:percent")
    assert [c.cell_type for c in notebook.cells] == [kind for kind, _ in cells(text)]
    assert jupytext.writes(notebook, fmt="py:percent") == text


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_lines_fit_in_100_columns(lesson):
    long = [f"{number}: {len(line)}" for number, line in enumerate(source(lesson).splitlines(), 1)
            if len(line) > MAX_COLUMNS]
    assert not long, f"{lesson}: lines over {MAX_COLUMNS} characters (line: length) {long}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_main_is_a_short_list_of_named_steps(lesson):
    tree = ast.parse(source(lesson))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    main = functions.get("main")
    assert main is not None, f"{lesson} has no main()"
    length = main.end_lineno - main.lineno + 1
    assert length <= MAIN_LINES, f"{lesson}: main() has {length} lines, at most {MAIN_LINES}"
    called = {node.func.id for node in ast.walk(main)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    steps = called & (set(functions) - {"main"})
    assert len(steps) >= 3, f"{lesson}: main() calls only {sorted(steps)} of the lesson's steps"
    for name, node in functions.items():
        size = node.end_lineno - node.lineno + 1
        assert size <= STEP_LINES, f"{lesson}: {name}() has {size} lines, at most {STEP_LINES}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_takes_its_math_from_numvae(lesson):
    imported = set()
    for node in ast.walk(ast.parse(source(lesson))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED_IMPORTS, f"{lesson} imports {sorted(imported - ALLOWED_IMPORTS)}"
    assert COMMON_IMPORT in source(lesson).splitlines(), f"{lesson} must import {COMMON_IMPORT!r}"


def test_readme_lists_every_lesson_with_its_figures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Lessons" in readme
    section = readme.split("## Lessons", 1)[1].split("\n## ", 1)[0]
    for lesson in LESSONS:
        doc = ast.get_docstring(ast.parse(source(lesson)))
        assert lesson in section, f"README's Lessons section does not list {lesson}"
        for figure in set(re.findall(r"\b(\d\d_\w+\.png)", doc)):
            assert figure in section, f"README's Lessons section does not name {lesson}'s figure {figure}"


def test_a_failed_check_is_printed_and_fails_the_lesson(capsys, common):
    check = common.Checks()
    assert check(True, "a true claim 1 = 1") is True
    assert check(False, "a false claim 1 = 2") is False
    assert check.finish() == 1
    out = capsys.readouterr().out
    assert "check: ok      a true claim 1 = 1" in out and "check: FAILED  a false claim 1 = 2" in out
    assert "1 of 2 checks FAILED" in out
    clean = common.Checks()
    clean(True, "fine")
    assert clean.finish() == 0


def test_from_a_shell_run_exits_with_the_lessons_status(common, monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    for status in (0, 1):
        with pytest.raises(SystemExit) as exited:
            common.run(lambda status=status: status)
        assert exited.value.code == status


def test_from_a_shell_the_figures_go_beside_the_lesson(common, monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "argv", [str(ROOT / "lessons" / LESSONS[0])])
    assert common.parse_args("Lesson 99: a title.").out == ROOT / "lessons" / "output"


def test_in_a_kernel_argv_is_the_kernels_and_a_failure_raises_instead_of_exiting(common, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])
    args = common.parse_args("Lesson 99: a title.", full_help="MNIST")
    # no lesson script on the command line: the figures go to output/ in the working folder
    assert (args.seed, args.out, args.full) == (0, Path.cwd() / "output", False)
    monkeypatch.setattr(sys, "argv", ["05_kl_divergence.py", "--seed", "3"])  # %run ... --seed 3
    assert common.parse_args("Lesson 99: a title.").seed == 3
    assert common.run(lambda: 0) is None  # the kernel lives on
    with pytest.raises(common.LessonFailed, match="check failed"):
        common.run(lambda: 1)


def test_a_lesson_runs_top_to_bottom_in_a_real_kernel(tmp_path):
    """Lesson 01 as a notebook in a real kernel, then a failing lesson, which must fail the run."""
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nbformat = pytest.importorskip("nbformat")

    def execute(notebook):
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(ROOT / "lessons")}})
        client.execute(env=child_env())
        return notebook

    notebook = jupytext.reads(source(LESSONS[0]), fmt="py:percent")
    # options reach a lesson in a kernel as they do under %run: through sys.argv
    argv_cell = f"import sys; sys.argv += ['--out', {str(tmp_path)!r}]"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(argv_cell))
    outputs = [output for cell in execute(notebook).cells for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") for output in outputs)
    assert re.search(r"^all \d+ checks ok$", text, re.M), text[-2000:]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no figure shown"
    assert (tmp_path / "01_histograms.png").is_file()

    failing = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"{COMMON_IMPORT}\n\ndef main():\n    check = _common.Checks()\n"
        "    check(False, 'a false claim')\n    return check.finish()\n\n_common.run(main)")])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="LessonFailed"):
        execute(failing)


def test_korean_guide_lists_every_lesson_and_cites_only_what_exists():
    """docs/ko.md, the guide for the lecture note's readers: the lessons in the note's order;
    every numvae name, ModelConfig option and exercise it cites must exist (so that renames
    in the package show up here). New exercises need not be listed to pass."""
    import importlib

    import numvae as nv
    from numvae.exercises.catalog import EXERCISES
    from numvae.model_config import ModelConfig

    guide = (ROOT / "docs" / "ko.md").read_text(encoding="utf-8")
    assert "docs/ko.md" in (ROOT / "README.md").read_text(encoding="utf-8"), "README must link it"
    headings = re.findall(r"^### (\d\d) .* — `(\d\d_\w+\.py)`", guide, re.M)
    assert [name for _, name in headings] == LESSONS, "one section per lesson, in the note's order"
    assert all(number == name[:2] for number, name in headings)
    for dotted in set(re.findall(r"`nv\.([A-Za-z_][\w.]*)", guide)):
        target = nv
        for part in dotted.split("."):
            assert hasattr(target, part), f"docs/ko.md cites nv.{dotted}, which does not exist"
            target = getattr(target, part)
    for dotted in set(re.findall(r"`numvae\.([\w.]+)\.(\w+)`", guide)):
        module = importlib.import_module(f"numvae.{dotted[0]}")
        assert hasattr(module, dotted[1]), f"docs/ko.md cites numvae.{'.'.join(dotted)}"
    fields = set(ModelConfig.__dataclass_fields__)
    for option in re.findall(r"nv\.ModelConfig\((\w+)=", guide):
        assert option in fields, f"docs/ko.md cites ModelConfig({option}=...), not a field"
    catalog = {e.number: e.name for e in EXERCISES}
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", guide, re.M)
    assert len(rows) >= 10, "the exercise table"
    for number, name in rows:
        assert catalog.get(int(number)) == name, f"docs/ko.md lists exercise {number} as {name}"
    for command in set(re.findall(r"python -m numvae (\w+)", guide)):
        assert (ROOT / "numvae" / "cli" / f"{command}.py").is_file(), f"no command numvae {command}"
