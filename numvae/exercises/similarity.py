"""Submissions that are the same code: identical after normalising comments, whitespace,
docstrings, names and the order of the top-level definitions.

Each file is parsed (``ast``, never run). Comments and whitespace do not survive parsing;
docstrings are dropped; every top-level statement is normalised on its own, its names
(variables, arguments, functions, classes, import aliases) renamed v0, v1, ... in the
order they first appear, while attribute names (``np.sum``), keyword names (``axis=1``),
imported modules and constants are kept. The file's form is the sorted list of its
statements' forms, so moving functions around or renaming variables changes nothing,
while a different formula does. Files that equal the untouched skeleton, or do not parse,
are left out.

Equal forms are a reason to look, not a verdict: two students who write the shortest
correct answer to a one-line exercise can match honestly. The report names the files so
that the instructor can read them.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Sequence
from pathlib import Path

from .catalog import Exercise
from .handout import skeleton_text


class _Renamer(ast.NodeTransformer):
    def __init__(self):
        self.names: dict[str, str] = {}

    def _new(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.asname = self._new(node.asname or node.name.split(".")[0])
        return node

    def _scope(self, node):
        node.name = self._new(node.name)
        node.body = _without_docstring(node.body) or [ast.Pass()]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self._new(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global


def _without_docstring(body: list) -> list:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def normal_form(source: str) -> str | None:
    """A fingerprint of the code's structure, or None if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    forms = []
    for statement in _without_docstring(tree.body):
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            continue
        forms.append(ast.dump(_Renamer().visit(statement), annotate_fields=False, include_attributes=False))
    return hashlib.sha256("\n".join(sorted(forms)).encode("utf-8")).hexdigest()


def identical_groups(folders: Sequence[Path], exercises: Sequence[Exercise]) -> list[dict]:
    """[{"exercise", "file", "students": [names...]}] for every group of two or more students
    whose files for an exercise have the same normal form (skeletons left out)."""
    groups = []
    for exercise in exercises:
        skeleton = normal_form(skeleton_text(exercise))
        by_form: dict[str, list[str]] = {}
        for folder in folders:
            path = Path(folder) / exercise.file
            try:
                form = normal_form(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            if form is not None and form != skeleton:
                by_form.setdefault(form, []).append(Path(folder).name)
        groups.extend({"exercise": exercise.name, "file": exercise.file, "students": sorted(students)}
                      for students in by_form.values() if len(students) > 1)
    return groups


def format_groups(groups: Sequence[dict]) -> str:
    """One line per group, for the instructor's terminal."""
    if not groups:
        return "no two submissions are the same code"
    lines = ["the same code after normalising comments, whitespace, docstrings and names:"]
    lines += [f"  {g['file']}: {', '.join(g['students'])}" for g in groups]
    return "\n".join(lines)
