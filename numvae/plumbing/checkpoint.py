"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one ``.npz`` file (NumPy's zip of arrays, read without pickle) holding

    params        the flat parameter buffer (ParamDict.flat), e.g. float32 (P,)
    opt.<key>     each array of the optimizer state, e.g. opt.m and opt.v for Adam, (P,)
    meta          a JSON string: format name and version, epoch, the run's config,
                  the history (one record per finished epoch), parameter names and
                  shapes, the optimizer's scalar state (its step count) and the state
                  of the run's numpy Generator (bit_generator.state)

Restoring the parameters, the optimizer state *and* the Generator's state is what makes
a resumed run bit-identical to an uninterrupted one: the next epoch's shuffling, noise
eps and evaluation draws continue the same random stream.

The file is written atomically (temporary file, then rename), so an interruption leaves
the previous checkpoint intact. Loading checks the format, its version, and the names
and shapes of the parameters, and reports a missing, truncated or corrupt file as a
FileNotFoundError or ValueError naming the path, what the file is instead and what to
do. No file is ever unpickled: the archive is read with ``zipfile`` and each entry's
header is checked before its data (an entry of Python objects is refused unread).
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..params import ParamDict, parameter_mismatches
from .atomic import atomic_write
from .checks import check_generator

FORMAT = "numvae-checkpoint"
FORMAT_VERSION = 1
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_META_KEYS = ("epoch", "config", "history", "param_names", "param_shapes", "rng_state",
              "optimizer_scalars", "optimizer_arrays")


@dataclass
class Checkpoint:
    """A run's state after ``epoch`` finished epochs.

    params: the model's ParamDict.   opt_state: the optimizer's state dict (arrays and
    scalars, as ``optimizer.init`` made it).   rng: the run's Generator, in the state it
    had at the end of that epoch.   config: the run's settings (JSON-serialisable).
    history: one metrics record per finished epoch (as ``numvae.fit`` returns them).
    """

    params: ParamDict
    opt_state: dict
    rng: np.random.Generator
    epoch: int
    config: dict
    history: list[dict] = field(default_factory=list)

    def check_shapes(self, expected: Mapping[str, tuple], source: str = "checkpoint") -> None:
        """Raise ValueError naming every missing, unexpected or misshapen parameter."""
        problems = parameter_mismatches(self.params.shapes(), expected)
        if problems:
            raise ValueError(f"{source} does not match the model: " + "; ".join(problems) + ". " + MISMATCH)


def _plain(value):
    """JSON for NumPy scalars in a config or history (np.float32 has no JSON form of its own)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"checkpoint config and history must be JSON-serialisable, got {type(value).__name__}")


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` atomically; return the path."""
    c = checkpoint
    if not isinstance(c.params, ParamDict):
        raise TypeError(f"params must be a ParamDict, got {type(c.params).__name__}")
    check_generator("rng", c.rng)
    if isinstance(c.epoch, bool) or not isinstance(c.epoch, (int, np.integer)) or c.epoch < 0:
        raise ValueError(f"epoch must be an integer >= 0, got {c.epoch!r}")
    arrays = {k: v for k, v in c.opt_state.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in c.opt_state.items() if not isinstance(v, np.ndarray)}
    for key, value in scalars.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"opt_state[{key!r}] must be an array or a number, got {type(value).__name__}")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "epoch": int(c.epoch),
        "config": c.config,
        "history": c.history,
        "param_names": list(c.params),
        "param_shapes": [list(v.shape) for v in c.params.values()],
        "rng_state": c.rng.bit_generator.state,
        "optimizer_scalars": {k: v.item() if isinstance(v, np.generic) else v for k, v in scalars.items()},
        "optimizer_arrays": list(arrays),
    }
    entries = {"meta": np.array(json.dumps(meta, default=_plain)), "params": c.params.flat,
               **{f"opt.{k}": v for k, v in arrays.items()}}
    return atomic_write(path, lambda f: np.savez(f, **entries))


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first bytes (an empty zip's: the second)
NOT_A_CHECKPOINT = ("numvae reads only the checkpoint.npz files that 'numvae train' (or save_checkpoint) "
                    "writes: point to one of those")
MISMATCH = ("Its parameters are not those of the model its settings describe: it was written for another "
            "model, or edited; load it with that model's settings, or train the run again")
DAMAGED = ("It is damaged (truncated or corrupt): restore it from a copy, or train the run again "
           "(numvae train --out DIR --overwrite)")


def _read_entries(path: Path) -> dict[str, np.ndarray]:
    """Every array of the .npz at ``path``, read in full (so corruption shows up here).

    Read with ``zipfile`` and NumPy's .npy reader, never with pickle: an entry that holds
    Python objects is refused before its bytes are read.
    """
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a numvae checkpoint: it is a folder, not a file. {NOT_A_CHECKPOINT}")
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        raise ValueError(f"{path} is not a readable checkpoint: the file is empty. {DAMAGED}")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path} is not a numvae checkpoint: it is one NumPy array (a .npy file), not "
                         f"the .npz archive of named arrays a checkpoint is. {NOT_A_CHECKPOINT}")
    if head[:4] not in ZIP_MAGIC:
        raise ValueError(f"{path} is not a numvae checkpoint: a checkpoint is an .npz (zip) archive, "
                         f"this file begins with {head!r}. {NOT_A_CHECKPOINT}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            foreign = [n for n in names if not n.endswith(".npy")]
            if foreign:
                raise _Foreign(f"it is a zip archive of other files ({', '.join(sorted(foreign)[:5])})")
            return {name[:-4]: _read_npy(archive, name) for name in names}
    except _Foreign as err:
        raise ValueError(f"{path} is not a numvae checkpoint: {err}. {NOT_A_CHECKPOINT}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError) as err:
        raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupt file?): "
                         f"{type(err).__name__}: {err}. {DAMAGED}") from None


def _writer(meta: dict) -> str:
    config = meta.get("config")
    version = config.get("numvae_version") if isinstance(config, dict) else None
    return f" (numvae {version})" if isinstance(version, str) else ""


class _Foreign(Exception):
    """An archive that is readable but not a checkpoint."""


def _read_npy(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One .npy member: its header checked first (no Python objects), then its data."""
    with archive.open(name) as f:
        version = np.lib.format.read_magic(f)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        _, _, dtype = header(f)
    if dtype.hasobject:
        raise _Foreign(f"its entry {name[:-4]!r} holds Python objects (a pickle), which a checkpoint never "
                       "does; numvae does not unpickle files")
    with archive.open(name) as f:
        array = np.lib.format.read_array(f, allow_pickle=False)
        f.read()  # to the end of the member: the zip's CRC-32 is checked there
    return array


def _read_meta(path: Path, entries: Mapping[str, np.ndarray]) -> dict:
    if "meta" not in entries or "params" not in entries:
        raise ValueError(f"{path} is not a numvae checkpoint: expected entries 'meta' and 'params', "
                         f"found {sorted(entries)}. {NOT_A_CHECKPOINT}")
    meta_entry = entries["meta"]
    if meta_entry.dtype.kind != "U" or meta_entry.shape != ():
        raise ValueError(f"{path} is not a numvae checkpoint: its 'meta' entry is {meta_entry.dtype} "
                         f"{meta_entry.shape}, not the JSON text numvae writes. {NOT_A_CHECKPOINT}")
    try:
        meta = json.loads(str(meta_entry))
    except ValueError as err:
        raise ValueError(f"{path} has an unreadable 'meta' entry (corrupt file?): {err}. {DAMAGED}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a numvae checkpoint: its meta does not say format {FORMAT!r}. "
                         f"{NOT_A_CHECKPOINT}")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path} has checkpoint format version {version!r}, but this numvae reads "
                         f"version {FORMAT_VERSION}: open it with the numvae that wrote it"
                         f"{_writer(meta)}, or train the run again with this one")
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"{path} is missing checkpoint fields {missing} (corrupt file?). {DAMAGED}")
    return meta


def _restore_params(path: Path, meta: dict, flat: np.ndarray) -> ParamDict:
    names, shapes = meta["param_names"], [tuple(s) for s in meta["param_shapes"]]
    if len(names) != len(shapes):
        raise ValueError(f"{path} lists {len(names)} parameter names but {len(shapes)} shapes")
    size = sum(int(np.prod(s)) for s in shapes)
    if flat.ndim != 1 or flat.size != size or flat.dtype.kind != "f":
        raise ValueError(f"{path}: 'params' must be a 1-D float array of {size} values for shapes "
                         f"{dict(zip(names, shapes, strict=True))}, got {flat.dtype} {flat.shape}")
    params = ParamDict.zeros(dict(zip(names, shapes, strict=True)), dtype=flat.dtype)
    params.flat[...] = flat
    return params


def _restore_rng(path: Path, state) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise ValueError(f"{path}: rng_state must name one of {BIT_GENERATORS}, got {name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"{path}: rng_state cannot be restored: {err}") from None
    return np.random.Generator(bit_generator)


def load_checkpoint(path: str | os.PathLike,
                    expected_shapes: Mapping[str, tuple] | None = None) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``.

    ``expected_shapes`` ({name: shape}, e.g. ``model.param_shapes()``), when given, must
    match the stored parameters exactly; the error lists every difference.
    """
    path = Path(path)
    entries = _read_entries(path)
    meta = _read_meta(path, entries)
    params = _restore_params(path, meta, entries["params"])
    if expected_shapes is not None:
        problems = parameter_mismatches(params.shapes(), expected_shapes)
        if problems:
            raise ValueError(f"{path} does not match the model: " + "; ".join(problems) + ". " + MISMATCH)
    opt_state = dict(meta["optimizer_scalars"])
    for key in meta["optimizer_arrays"]:
        value = entries.get(f"opt.{key}")
        if value is None or value.shape != params.flat.shape:
            found = "nothing" if value is None else f"shape {value.shape}"
            raise ValueError(f"{path}: optimizer state 'opt.{key}' must have shape {params.flat.shape}, "
                             f"found {found}")
        opt_state[key] = value
    epoch = meta["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"{path}: epoch must be an integer >= 0, got {epoch!r}")
    return Checkpoint(params=params, opt_state=opt_state, rng=_restore_rng(path, meta["rng_state"]),
                      epoch=epoch, config=meta["config"], history=meta["history"])
