"""Where a data set's files come from, first match wins:

1. the ``data_dir`` argument: the folder itself, or its sub-folder named after the set
   (``data_dir/mnist/``), so both a set's folder and a folder of sets work;
2. the environment variable NUMVAE_DATA_DIR: its sub-folder for the set
   (``$NUMVAE_DATA_DIR/mnist/``, ``fashion-mnist/``, ``binarized_mnist/``);
3. the user's cache, ``pooch.os_cache('numvae')/<set>/`` (``~/.cache/numvae/mnist/`` on
   Linux), where downloads land;
4. folders a system package installs into (Debian's dataset-fashion-mnist:
   ``/usr/share/datasets/fashion-mnist``);
5. a download into the cache, mirror after mirror, each file checked against its
   published SHA-256 (``registry.py``).

A folder counts when it holds every file the split needs (so images and labels always
come from the same place). An IDX file may also be there uncompressed, without '.gz'.
Files found in folders are trusted to the reader's checks (header, length, values);
downloads are trusted to their checksum. A dead mirror falls over to the next; a
checksum mismatch is an error and the bad file is not kept.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .registry import RemoteFile, Source

ENV_VAR = "NUMVAE_DATA_DIR"
DOWNLOAD_TIMEOUT = 60  # seconds without an answer before a mirror counts as dead


def cache_dir() -> Path:
    """The user's cache folder for numvae (``pooch.os_cache``; honours XDG_CACHE_HOME)."""
    import pooch

    return Path(pooch.os_cache("numvae"))


def _folder_setting(what: str, value) -> Path:
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{what} must be an existing folder, got {str(value)!r}")
    return folder


def data_folders(data_dir: str | os.PathLike | None = None) -> tuple[Path | None, Path | None]:
    """(the ``data_dir`` folder, the NUMVAE_DATA_DIR folder), each None when not given.

    Each one given must be an existing folder, for every data set, the embedded digits
    included: a misspelt folder is an error that names where it came from, never a
    setting silently ignored. Raises TypeError for a data_dir that is not a path,
    FileNotFoundError for a folder that does not exist (or is a file).
    """
    folder = None
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a path (str or os.PathLike) or None, "
                            f"got {type(data_dir).__name__}")
        folder = _folder_setting("data_dir", data_dir)
    env = os.environ.get(ENV_VAR)
    env_folder = _folder_setting(f"the environment variable {ENV_VAR}", env) if env else None
    return folder, env_folder


def search_folders(source: Source, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for ``source``'s files, in order (see the module docstring)."""
    folders = []
    folder, env_folder = data_folders(data_dir)
    if folder is not None:
        folders += [folder, folder / source.folder]
    if env_folder is not None:
        folders.append(env_folder / source.folder)
    folders.append(cache_dir() / source.folder)
    folders += [Path(f) for f in source.system_folders]
    return folders


def local_names(file: RemoteFile) -> tuple[str, ...]:
    """The names a file may have in a folder: as published, or gunzipped."""
    return (file.name, file.name[:-3]) if file.name.endswith(".gz") else (file.name,)


def find_in_folder(folder: Path, file: RemoteFile) -> Path | None:
    return next((folder / n for n in local_names(file) if (folder / n).is_file()), None)


def find_files(source: Source, split: str, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> dict[str, Path]:
    """The paths of ``split``'s files, role -> path (e.g. {'images': ..., 'labels': ...}).

    Searches the folders in order, then (if ``download``) downloads what the cache lacks.
    Raises FileNotFoundError naming the missing files, where they were looked for, why
    downloading failed, and the three ways to provide them; ValueError on a checksum
    mismatch.
    """
    if split not in source.files:
        raise ValueError(f"split must be one of {source.splits} for {source.name}, got {split!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    needed = source.files[split]
    folders = search_folders(source, data_dir)
    for folder in folders:
        found = {role: find_in_folder(folder, file) for role, file in needed.items()}
        if all(found.values()):
            return found
    cache = cache_dir() / source.folder
    paths = {role: find_in_folder(cache, file) for role, file in needed.items()}
    failures: list[str] = []
    for role, file in needed.items():
        if paths[role] is None and download:
            paths[role], failures = download_file(source, file, cache)
        if paths[role] is None:
            missing = [f.name for r, f in needed.items() if paths[r] is None]
            raise FileNotFoundError(missing_files_message(source, split, missing, folders, failures))
    return paths


def download_file(source: Source, file: RemoteFile, folder: Path) -> tuple[Path | None, list[str]]:
    """Download ``file`` into ``folder`` from the first mirror that serves it.

    Returns (path, []) on success, (None, one line per failed mirror) when every mirror
    is unreachable or refuses. A file whose SHA-256 differs from the published one raises
    ValueError at once (pooch deletes it): a mirror serving wrong bytes is not a dead
    mirror, and trying the next one would hide it.
    """
    import pooch
    import requests

    failures = []
    for base in source.mirrors:
        url = base.rstrip("/") + "/" + file.name
        downloader = pooch.HTTPDownloader(progressbar=sys.stderr.isatty(), chunk_size=1 << 16,
                                          timeout=DOWNLOAD_TIMEOUT)
        try:
            path = pooch.retrieve(url, known_hash=f"sha256:{file.sha256}", fname=file.name,
                                  path=folder, downloader=downloader)
        except requests.exceptions.RequestException as err:
            failures.append(f"{url}: {type(err).__name__}: {err}")
            continue
        except ValueError as err:
            raise ValueError(
                f"checksum mismatch: {file.name} downloaded from {url} does not have the published "
                f"SHA-256 {file.sha256}, so it was deleted, not used. The mirror serves a damaged or "
                f"different file; place a good copy in a folder instead (see load_dataset). ({err})"
            ) from err
        return Path(path), []
    return None, failures


def missing_files_message(source: Source, split: str, missing: list[str], folders: list[Path],
                          failures: list[str]) -> str:
    """What is missing, where it was looked for, and the three ways to provide it."""
    lines = [f"{source.name} split {split!r} needs {', '.join(missing)}, not found in:"]
    lines += [f"  {folder}" for folder in folders]
    if failures:
        lines.append("and downloading failed:")
        lines += [f"  {failure}" for failure in failures]
    else:
        lines.append("and downloading is switched off (download=False).")
    lines += [
        "Provide the files in one of three ways:",
        f"  1. put them in a folder and pass it: load_dataset({source.name!r}, data_dir=FOLDER) "
        "(command line: --data-dir FOLDER);",
        f"  2. set the environment variable {ENV_VAR}=FOLDER, with the files in FOLDER/{source.folder}/;",
        f"  3. go online and load with download=True: they are fetched into "
        f"{cache_dir() / source.folder} and checked against their published SHA-256.",
    ]
    return "\n".join(lines)
