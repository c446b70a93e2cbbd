"""Handing out the exercises: copy the skeleton files into a student's folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .catalog import Exercise, select
from .report import write_atomic


def skeleton_text(exercise: Exercise) -> str:
    """The text of an exercise's skeleton, as shipped in ``numvae/exercises/skeletons``."""
    return resources.files("numvae.exercises.skeletons").joinpath(exercise.file).read_text(encoding="utf-8")


def init_folder(folder, names=None, *, force: bool = False) -> tuple[list[Path], list[Path]]:
    """Write the skeletons of the named exercises (all when None) into ``folder``.

    Creates the folder if needed. An existing file is the student's work: it is kept
    unless ``force`` is true. Returns (written, kept) paths.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"folder must be a directory, got the file {str(folder)!r}")
    folder.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for exercise in select(names):
        path = folder / exercise.file
        if path.exists() and not force:
            kept.append(path)
            continue
        write_atomic(path, skeleton_text(exercise))
        written.append(path)
    return written, kept
