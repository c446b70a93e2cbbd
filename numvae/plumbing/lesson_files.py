"""The lesson scripts as files: where they are, what their headers say, copies and notebooks.

The lessons are ``lessons/NN_topic.py`` in a clone of the repository; the wheel carries the
same files as ``numvae/lessons/`` (``setup.py`` maps the one folder onto the other), so that
``numvae lessons list | run | export`` works wherever numvae is installed. The reference
solutions of the exercises live in ``tests/`` and are never part of the package.

A lesson is a percent-format script: ``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell whose lines are comments (``# text``). ``notebook`` turns one into an
nbformat-4 notebook (the ``.ipynb`` JSON that Jupyter, VS Code and Colab open): the
module docstring becomes the first markdown cell, each markdown cell loses its ``# ``
prefixes, each code cell is kept as it is, and no cell has outputs. The JSON is written
here, by the documented format (https://nbformat.readthedocs.io/en/latest/format_description.html),
so exporting needs no Jupyter package; when ``nbformat`` is installed the notebook is also
validated against its schema before it is written.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

from .atomic import atomic_write_text

LESSON_FILE = re.compile(r"(\d\d)_(\w+)\.py")  # 04_elbo.py: number 04, topic elbo
NBFORMAT, NBFORMAT_MINOR = 4, 5  # 4.5: cells carry an id
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# The notebook's own instructions, after the lesson's header in the first markdown cell.
IN_A_NOTEBOOK = """\
**As a notebook**: run the cells from the top (Run All). The kernel needs numvae and
nothing else: install it where the kernel runs as you would for the command line
(`pip install .` in a clone of numvae; in Colab, upload numvae's wheel, made in a clone by
`pip wheel --no-deps -w dist .`, and run `!pip install numvae-*.whl` in a first cell).
Figures are shown below their cells and written to `output/` in the notebook's folder; the
last cell prints the tally of the `check:` lines and raises `LessonFailed` if any claim
failed."""


def lessons_dir() -> Path:
    """The folder holding the lesson scripts: ``numvae/lessons/`` installed, ``lessons/`` in a clone."""
    package = Path(__file__).resolve().parent.parent  # .../numvae
    candidates = (package / "lessons", package.parent / "lessons")
    for folder in candidates:
        if any(LESSON_FILE.fullmatch(p.name) for p in folder.glob("*.py")):
            return folder
    raise FileNotFoundError("the lesson scripts are not installed: looked in "
                            + " and ".join(str(c) for c in candidates))


def lesson_paths(folder: Path | None = None) -> list[Path]:
    """Every lesson script, in the lecture's order (by number)."""
    folder = lessons_dir() if folder is None else Path(folder)
    return sorted(p for p in folder.glob("*.py") if LESSON_FILE.fullmatch(p.name))


def lesson_info(path: Path) -> dict:
    """What a lesson's header says, read without running it.

    Returns {"number": 5, "name": "05_kl_divergence", "title": ..., "shows": ...,
    "seconds": 2.0, "full": False, "figures": ["05_kl.png"]}; ``full`` says whether the
    lesson has a ``--full`` mode (MNIST). Raises ValueError naming the missing part.
    """
    path = Path(path)
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = re.match(r"Lesson (\d\d): (.+)", doc)
    shows = re.search(r"^Shows: +(.+(?:\n {2,}\S.*)*)", doc, re.M)
    seconds = re.search(r"^Run: .*\(about (\d+(?:\.\d+)?) s\b", doc, re.M)
    for part, found in (("'Lesson NN: title' first line", first), ("'Shows:' line", shows),
                        ("'Run: ... (about N s)' line", seconds)):
        if not found:
            raise ValueError(f"{path.name}: the header has no {part}")
    return {"number": int(first[1]), "name": path.stem, "title": first[2].rstrip("."),
            "shows": " ".join(shows[1].split()), "seconds": float(seconds[1]),
            "full": bool(re.search(rf"python lessons/{re.escape(path.name)} +--full\b", doc)),
            "figures": sorted(set(re.findall(r"\b\d\d_\w+\.png\b", doc)))}


def find_lesson(key: str, paths: list[Path] | None = None) -> Path:
    """The lesson a student means by ``key``: 4, 04, 04_elbo, 04_elbo.py, elbo, or a prefix (kl).

    Raises ValueError listing the lessons when ``key`` names none or several.
    """
    paths = lesson_paths() if paths is None else paths
    key = str(key).strip().removesuffix(".py")
    if key.isdigit():
        found = [p for p in paths if int(p.name[:2]) == int(key)]
    else:
        found = [p for p in paths if key in (p.stem, p.stem[3:])]
        if not found:
            found = [p for p in paths if p.stem[3:].startswith(key)]
    if len(found) == 1:
        return found[0]
    names = ", ".join(p.stem for p in paths)
    if found:
        raise ValueError(f"lesson {key!r} is ambiguous: it could be "
                         f"{' or '.join(p.stem for p in found)}")
    raise ValueError(f"no lesson {key!r}; the lessons are {names} "
                     "(give a number, a name or the start of one)")


def select(keys: list[str] | None = None) -> list[Path]:
    """The lessons named by ``keys`` (see ``find_lesson``), in the lecture's order; all when empty."""
    paths = lesson_paths()
    if not keys:
        return paths
    chosen = {find_lesson(key, paths) for key in keys}
    return [p for p in paths if p in chosen]


# --- percent-format script -> notebook ---------------------------------------------------

def cells(text: str) -> list[tuple[str, str]]:
    """[(kind, source)] of a percent-format script, kind 'markdown' or 'code'.

    Markdown lines lose their comment prefix ('# text' -> 'text', '#' -> ''); blank lines
    at the start and end of every cell are dropped. A first code cell that opens with the
    module docstring is split in two: the docstring as markdown (kept verbatim in a
    ``text`` block, since it is plain text laid out for a terminal, not markdown), the rest
    as code.
    """
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            found.append(("markdown" if line.strip() == "# %% [markdown]" else "code", []))
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            found.append(("code", [line]))  # code before any marker: a cell of its own
    result = []
    for number, (kind, lines) in enumerate(found):
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.removeprefix("#") for line in lines]
        body = "\n".join(lines).strip("\n")
        if number == 0 and kind == "code":
            result.extend(_split_docstring(body))
        elif body.strip():
            result.append((kind, body))
    return result


def _split_docstring(body: str) -> list[tuple[str, str]]:
    """The first code cell as [(markdown: its docstring), (code: the rest)]."""
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return [("code", body)]
    doc = ast.get_docstring(tree, clean=True)
    if doc is None:
        return [("code", body)]
    rest = "\n".join(body.splitlines()[tree.body[0].end_lineno:]).strip("\n")
    fence = "```" if "```" not in doc else "~~~~"
    parts = [("markdown", f"{fence}text\n{doc}\n{fence}\n\n{IN_A_NOTEBOOK}")]
    return parts + ([("code", rest)] if rest.strip() else [])


def notebook(path: Path) -> dict:
    """The lesson at ``path`` as an nbformat-4 notebook (a JSON-ready dict), without outputs."""
    path = Path(path)
    nb_cells = []
    for number, (kind, body) in enumerate(cells(path.read_text(encoding="utf-8"))):
        lines = body.splitlines(keepends=True)
        cell = {"cell_type": kind, "id": f"cell-{number:02d}", "metadata": {},
                "source": lines}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {"cells": nb_cells,
            "metadata": {"kernelspec": dict(KERNELSPEC),
                         "language_info": {"name": "python"},
                         "numvae": {"lesson": path.stem}},
            "nbformat": NBFORMAT, "nbformat_minor": NBFORMAT_MINOR}


def validate(nb: dict) -> None:
    """Check ``nb`` against the nbformat-4 schema when nbformat is installed (else do nothing).

    Raises ValueError with nbformat's message when the notebook is not valid.
    """
    try:
        import nbformat
    except ImportError:
        return
    try:
        nbformat.validate(nbformat.from_dict(nb), version=NBFORMAT)
    except nbformat.ValidationError as err:
        raise ValueError(f"notebook {nb['metadata']['numvae']['lesson']} is not valid nbformat 4: "
                         f"{err.message}") from None


def notebook_text(path: Path) -> str:
    """The notebook of ``path`` as .ipynb text (validated when nbformat is installed)."""
    nb = notebook(path)
    validate(nb)
    # nbformat's own layout: one-space indent, sorted keys, UTF-8 kept as is
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --- export --------------------------------------------------------------------------------

def export(folder: Path, paths: list[Path], *, notebooks: bool = False,
           force: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy the lessons at ``paths`` into ``folder``, as scripts or (``notebooks``) as .ipynb.

    Scripts are copied byte for byte. Creates the folder if needed. An existing file may
    be the student's work: it is kept unless ``force`` is true. Returns (written, kept).
    Every notebook is built (and validated) before anything is written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"DIR must be a folder, got the file {str(folder)!r}")
    targets = [(path, folder / (f"{path.stem}.ipynb" if notebooks else path.name)) for path in paths]
    texts = {path: notebook_text(path) for path, _ in targets} if notebooks else {}
    folder.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for path, target in targets:
        if target.exists() and not force:
            kept.append(target)
            continue
        if notebooks:
            atomic_write_text(target, texts[path])
        else:
            shutil.copyfile(path, target)
        written.append(target)
    return written, kept
