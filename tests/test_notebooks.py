"""The lessons as Jupyter notebooks: ``numvae lessons export DIR --notebooks``.

Every exported notebook must be valid nbformat 4 (checked against nbformat's schema when
nbformat is installed, and by its documented structure always), carry the lesson's header
as its first markdown cell, its markdown and code cells in the script's order, and no
outputs. One exported notebook is then run top to bottom in a real Jupyter kernel
(nbclient and ipykernel, the ``notebooks`` extra), which must print only passing checks,
show its figure, and warn about nothing (tqdm's "IProgress not found" included).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path

import pytest

from numvae.cli import main
from numvae.plumbing import lesson_files

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
FAST_LESSON = "05_kl_divergence"  # a few seconds: closed forms, Monte Carlo, one figure
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")  # nbformat 4.5


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    assert main(["lessons", "export", str(folder), "--notebooks"]) == 0
    return folder


def script_cells(text: str) -> list[tuple[str, str]]:
    """[(kind, text)] of a percent-format script, straight from its markers."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            found.append(("markdown" if line == "# %% [markdown]" else "code", []))
        elif found:
            found[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in found]


def test_every_lesson_is_exported_as_one_notebook(exported):
    assert sorted(p.name for p in exported.iterdir()) == [f"{p.stem}.ipynb" for p in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_exported_notebook_is_valid_nbformat_4(lesson, exported):
    nb = json.loads((exported / f"{lesson.stem}.ipynb").read_text(encoding="utf-8"))
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["language_info"]["name"] == "python"
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(set(ids)) == len(ids) and all(CELL_ID.match(i) for i in ids), ids
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and cell["metadata"] == {}
        assert isinstance(cell["source"], list) and all(isinstance(s, str) for s in cell["source"])
        assert all(line.endswith("\n") for line in cell["source"][:-1])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        else:
            assert set(cell) == {"cell_type", "id", "metadata", "source"}
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.read(exported / f"{lesson.stem}.ipynb", as_version=4))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_notebook_has_the_scripts_cells_with_the_header_as_markdown(lesson, exported):
    nb = json.loads((exported / f"{lesson.stem}.ipynb").read_text(encoding="utf-8"))
    got = [(cell["cell_type"], "".join(cell["source"])) for cell in nb["cells"]]
    kinds = [kind for kind, _ in got]
    assert kinds.count("markdown") >= 4 and kinds.count("code") >= 4, kinds
    text = lesson.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text))
    header, imports = got[0], got[1]
    assert header[0] == "markdown" and doc in header[1], "the first cell must be the header"
    assert header[1].startswith("```text\nLesson ") and "As a notebook" in header[1]
    assert imports[0] == "code" and "from numvae.plumbing import lesson as _common" in imports[1]
    assert '"""' not in imports[1], "the docstring belongs to the markdown cell"
    expected = script_cells(text)[1:]  # after the header cell, the script's cells one for one
    assert len(got) - 2 == len(expected)
    for (kind, body), (want_kind, want) in zip(got[2:], expected, strict=True):
        assert kind == want_kind
        if kind == "code":
            assert body == want
            compile(body, f"{lesson.name} cell", "exec")
        else:  # the same lines without their '# ' prefix
            assert [f"# {line}".rstrip() for line in body.splitlines()] == want.splitlines()
    code = "\n\n".join(body for kind, body in got if kind == "code")
    assert code.rstrip().endswith("_common.run(main)")


def test_notebooks_are_the_same_with_or_without_nbformat(monkeypatch):
    """Without nbformat the JSON is written by hand: same bytes, only the schema check is skipped."""
    path = ROOT / "lessons" / f"{FAST_LESSON}.py"
    with_it = lesson_files.notebook_text(path)
    monkeypatch.setitem(sys.modules, "nbformat", None)  # import nbformat now raises ImportError
    assert lesson_files.notebook_text(path) == with_it


def test_an_invalid_notebook_is_refused_before_it_is_written():
    nbformat = pytest.importorskip("nbformat")
    nb = lesson_files.notebook(ROOT / "lessons" / f"{FAST_LESSON}.py")
    nb["cells"][1]["outputs"] = "not a list"
    with pytest.raises(ValueError, match=f"notebook {FAST_LESSON} is not valid nbformat 4"):
        lesson_files.validate(nb)
    assert nbformat  # validated by nbformat's own schema


def test_progress_bars_are_text_without_ipywidgets(monkeypatch):
    """tqdm.auto warns 'IProgress not found' in a kernel without ipywidgets; numvae picks text."""
    import importlib.util

    from numvae.plumbing import progress

    real = importlib.util.find_spec
    try:
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: None if name == "ipywidgets" else real(name, *a))
        assert importlib.reload(progress).tqdm.__module__ == "tqdm.std"
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: object() if name == "ipywidgets" else real(name, *a))
        import tqdm.auto

        assert importlib.reload(progress).tqdm is tqdm.auto.tqdm
    finally:
        monkeypatch.undo()
        importlib.reload(progress)


def test_an_exported_notebook_runs_top_to_bottom_in_a_real_kernel(tmp_path):
    """Lesson 05, exported alone into an empty folder, executed cell by cell by nbclient."""
    nbclient = pytest.importorskip("nbclient", reason="running a notebook needs nbclient "
                                   "(pip install '.[notebooks]')")
    pytest.importorskip("ipykernel", reason="running a notebook needs ipykernel (pip install '.[notebooks]')")
    nbformat = pytest.importorskip("nbformat", reason="nbclient reads notebooks with nbformat")
    assert main(["lessons", "export", str(tmp_path), FAST_LESSON, "--notebooks"]) == 0
    notebook = nbformat.read(tmp_path / f"{FAST_LESSON}.ipynb", as_version=4)
    env = {**os.environ, "MPLBACKEND": "Agg", **THREADS,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # raises CellExecutionError if any cell raises (LessonFailed too)

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert re.search(r"^check: ok", stdout, re.M), stdout[-3000:]
    assert "check: FAILED" not in stdout, stdout[-3000:]
    assert re.search(r"^all \d+ checks ok$", stdout, re.M), stdout[-3000:]
    assert not stderr, f"the notebook wrote to stderr:\n{stderr[-3000:]}"
    assert not any(o.get("output_type") == "error" for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs), "the figure is not shown"
    figure = tmp_path / "output" / "05_kl.png"
    assert figure.is_file() and f"figure: {figure}" in stdout, "figures go to output/ beside it"


def test_ci_runs_the_readmes_test_command_which_installs_the_notebook_extra():
    """The kernel test above must run in CI, not be skipped: .ci/run installs what it needs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^pip install \"\.\[test[^\n]*python -m pytest$", readme, re.M)
    assert commands == ['pip install ".[test,notebooks]" && python -m pytest'], commands
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "python -m pytest" in line]
    assert ci == commands, f".ci/run must run exactly the README's test command, runs {ci}"
