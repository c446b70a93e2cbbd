"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The content goes to a temporary file in the destination's own folder (so that the
final rename stays on one file system), is flushed to disk, and only then replaces the
destination with ``os.replace``, which is atomic on POSIX and Windows. If anything
fails or is interrupted (Ctrl-C included) before the rename, the temporary file is
removed and the destination is untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary binary file, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_write_json(path: str | os.PathLike, value: object, indent: int = 2) -> Path:
    """Write ``value`` as indented JSON, ending in a newline, to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(value, indent=indent) + "\n")
