"""``numvae lessons list | run | export``, and the lessons inside the wheel.

The lessons come with the installed package: the wheel carries ``lessons/NN_topic.py`` as
``numvae/lessons/`` (and never the exercises' reference solutions), ``list`` reads their
headers, ``run`` runs one in its own process and names the folder of its figures, and
``export`` copies them out byte for byte without overwriting a student's files.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from numvae.cli import main
from numvae.plumbing import lesson_files

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def child_env() -> dict[str, str]:
    """os.environ with this checkout first on PYTHONPATH, headless matplotlib, one BLAS thread."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", **THREADS}


def test_a_checkout_finds_its_own_lessons_folder():
    """From a checkout, lessons/; from an installed numvae, its numvae/lessons/ (same files)."""
    import numvae

    folder = lesson_files.lessons_dir()
    if Path(numvae.__file__).resolve().parent == ROOT / "numvae":
        assert folder == ROOT / "lessons"
    else:
        assert folder == Path(numvae.__file__).resolve().parent / "lessons"
    assert [p.name for p in lesson_files.lesson_paths()] == [p.name for p in LESSONS]
    assert all(p.read_bytes() == (folder / p.name).read_bytes() for p in LESSONS)


def test_list_shows_every_lesson_with_its_title_what_it_shows_and_its_time(capsys):
    assert main(["lessons", "list"]) == 0
    out = capsys.readouterr().out
    assert len(LESSONS) == 15
    for path in LESSONS:
        info = lesson_files.lesson_info(path)
        line = f"{info['number']:02d}  {info['title']}  (about {info['seconds']:g} s)"
        assert re.search(rf"^{re.escape(line)}$", out, re.M), f"no line {line!r} in\n{out}"
        assert f"    shows: {info['shows']}" in out
    assert f"15 lessons in {lesson_files.lessons_dir()}" in out


def test_list_json_gives_every_header(capsys):
    import json

    assert main(["lessons", "list", "--json"]) == 0
    infos = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in infos] == [p.stem for p in LESSONS]
    assert all(i["title"] and i["shows"] and i["seconds"] > 0 and i["figures"] for i in infos)
    assert [i["name"] for i in infos if i["full"]] == ["02_autoregressive", "09_latent_space",
                                                       "13_importance_weighted", "15_convolutional_vae"]


@pytest.mark.parametrize("key", ["4", "04", "04_elbo", "04_elbo.py", "elbo", " 4 "])
def test_a_lesson_is_named_by_number_name_or_topic(key):
    assert lesson_files.find_lesson(key) == lesson_files.lessons_dir() / "04_elbo.py"


def test_a_prefix_of_the_topic_names_a_lesson_when_it_is_unique():
    assert lesson_files.find_lesson("kl").name == "05_kl_divergence.py"
    with pytest.raises(ValueError, match="ambiguous.*03_latent_variable_models or 09_latent_space"):
        lesson_files.find_lesson("latent")


@pytest.mark.parametrize("argv, message", [
    (["lessons", "run", "16"], "no lesson '16'; the lessons are 01_generative_models, "),
    (["lessons", "run", "gan"], "no lesson 'gan'"),
    (["lessons", "run", "04", "--full"], "lesson 04_elbo has no --full mode (only 02_autoregressive, "
                                         "09_latent_space, 13_importance_weighted, 15_convolutional_vae)"),
    (["lessons", "export", "x", "99"], "no lesson '99'"),
])
def test_errors_are_one_line_and_exit_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"numvae lessons: error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists(), "nothing is written when a lesson name is wrong"


def test_export_copies_the_scripts_byte_for_byte_and_keeps_existing_files(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["lessons", "export", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in LESSONS]
    for path in LESSONS:
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name
    assert "next: python" in capsys.readouterr().out

    edited = folder / "04_elbo.py"
    edited.write_text("# my notes\n")
    (folder / "05_kl_divergence.py").unlink()
    assert main(["lessons", "export", str(folder)]) == 0
    out = capsys.readouterr().out
    assert edited.read_text() == "# my notes\n", "export overwrote a student's file"
    assert f"kept  {edited} (it exists; --force overwrites it)" in out
    assert f"wrote {folder / '05_kl_divergence.py'}" in out
    assert out.count("wrote ") == 1

    assert main(["lessons", "export", str(folder), "elbo", "--force"]) == 0
    assert edited.read_bytes() == (ROOT / "lessons" / "04_elbo.py").read_bytes()
    assert capsys.readouterr().out.count("wrote ") == 1


def test_export_notebooks_writes_one_ipynb_per_lesson_and_keeps_existing_ones(tmp_path, capsys):
    folder = tmp_path / "nb"
    assert main(["lessons", "export", str(folder), "01", "05", "--notebooks"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["01_generative_models.ipynb",
                                                        "05_kl_divergence.ipynb"]
    assert "jupyter lab" in capsys.readouterr().out
    kept = folder / "05_kl_divergence.ipynb"
    kept.write_text("{}")
    assert main(["lessons", "export", str(folder), "05", "--notebooks"]) == 0
    assert kept.read_text() == "{}" and "kept  " in capsys.readouterr().out
    assert main(["lessons", "export", str(folder), "05", "--notebooks", "--force"]) == 0
    assert kept.read_text() == lesson_files.notebook_text(ROOT / "lessons" / "05_kl_divergence.py")


def test_export_refuses_a_file_as_its_folder(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["lessons", "export", str(target)]) == 2
    assert "DIR must be a folder" in capsys.readouterr().err


def test_run_streams_the_lesson_and_writes_its_figures_into_the_folder_it_names(tmp_path):
    """Lesson 05 (a few seconds) from the command line, in a folder of its own."""
    proc = subprocess.run([sys.executable, "-m", "numvae", "lessons", "run", "05"], cwd=tmp_path,
                          env=child_env(), capture_output=True, text=True, timeout=300)
    out = proc.stdout
    report = f"exit {proc.returncode}\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, report
    folder = (tmp_path / "numvae-lessons" / "output" / "05_kl_divergence").resolve()
    assert f"figures go to {folder}/" in out, report
    assert re.search(r"^check: ok", out, re.M) and "check: FAILED" not in out, report
    assert re.search(r"^all \d+ checks ok$", out, re.M), report
    assert (folder / "05_kl.png").is_file() and (folder / "05_kl.png").stat().st_size > 5000
    assert f"figure: {folder / '05_kl.png'}" in out
    assert out.rstrip().endswith(f"lesson 05_kl_divergence: every check holds; figures in {folder}/")


def test_run_returns_the_lessons_exit_status_and_passes_its_options(tmp_path, monkeypatch, capfd):
    """A stand-in lesson that fails a check: its status comes back, --out and --seed reach it."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "98_fails.py").write_text(
        '"""Lesson 98: a lesson whose claim is false.\n\nShows: what a failed check looks like.\n'
        'Run:  python lessons/98_fails.py    (about 1 s)\n"""\n\n'
        "from numvae.plumbing import lesson as _common\n\n\n"
        "def main(argv=None):\n"
        "    args = _common.parse_args(__doc__, argv)\n"
        "    check = _common.Checks()\n"
        "    print(f'seed {args.seed} out {args.out}')\n"
        "    check(False, 'a false claim')\n"
        "    return check.finish()\n\n\n"
        'if __name__ == "__main__":\n    _common.run(main)\n', encoding="utf-8")
    monkeypatch.setattr(lesson_files, "lessons_dir", lambda: folder)
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    out_dir = tmp_path / "figs"
    assert main(["lessons", "run", "fails", "--out", str(out_dir), "--seed", "7"]) == 1
    out = capfd.readouterr().out
    assert f"seed 7 out {out_dir}" in out and "check: FAILED  a false claim" in out
    assert f"lesson 98_fails: exit status 1; figures in {out_dir}/" in out


def test_the_wheel_carries_the_lessons_and_no_exercise_solutions(tmp_path):
    """Build the wheel from a copy of the checkout (offline, no build isolation) and look inside."""
    if importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None:
        pytest.skip("building the wheel needs pip and setuptools installed (offline, no isolation)")
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "runs", "output",
        ".pytest_cache", ".hypothesis", ".ruff_cache", "numvae-lessons"))
    assert (source / "tests" / "exercise_solutions").is_dir()  # there to be left out
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(tmp_path / "dist"), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("numvae-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        shipped = sorted(n for n in names if n.startswith("numvae/lessons/"))
        assert shipped == [f"numvae/lessons/{p.name}" for p in LESSONS], shipped
        for path in LESSONS:
            assert zf.read(f"numvae/lessons/{path.name}") == path.read_bytes(), path.name
        assert "numvae/plumbing/lesson.py" in names and "numvae/plumbing/lesson_files.py" in names
    leaked = [n for n in names if "exercise_solutions" in n or n.startswith(("tests/", "lessons/"))]
    assert not leaked, f"the wheel must not carry {leaked}"
