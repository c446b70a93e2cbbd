"""Checkpoints: exact round trip, atomic replacement, and clear errors for bad files."""

import json
import os
import re

import numpy as np
import pytest

import numvae as nv
import numvae.plumbing.checkpoint as ck
from numvae.data import load_digits
from numvae.plumbing import atomic as _atomic


@pytest.fixture
def state():
    """A model after a few Adam steps, and everything a checkpoint must carry."""
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(12,), latent=3))
    rng = np.random.default_rng(5)
    params = model.init_params(rng)
    opt = nv.Adam(1e-2)
    opt_state = opt.init(params)
    x = load_digits("train").x[:32]
    for _ in range(3):
        _, grads = model.loss_and_grads(params, x, rng=rng)
        opt.step(params, grads, opt_state)
    config = {"model": "vae", "latent": 3, "hidden": [12], "lr": 0.01}
    history = [{"epoch": 1, "test_loss": 41.25, "binarize": "none", "test_kl": np.float32(0.5)}]
    return model, ck.Checkpoint(params, opt_state, rng, 3, config, history), opt, x


def test_round_trip_is_exact_and_the_generator_continues_the_same_stream(tmp_path, state):
    model, saved, opt, x = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    loaded = ck.load_checkpoint(path, expected_shapes=model.param_shapes())
    assert list(loaded.params) == list(saved.params)
    assert loaded.params.flat.dtype == np.float32
    assert np.array_equal(loaded.params.flat, saved.params.flat)
    for name in saved.params:  # still views into the flat buffer
        assert np.shares_memory(loaded.params[name], loaded.params.flat)
    assert loaded.opt_state["step"] == 3
    assert np.array_equal(loaded.opt_state["m"], saved.opt_state["m"])
    assert np.array_equal(loaded.opt_state["v"], saved.opt_state["v"])
    assert (loaded.epoch, loaded.config, loaded.history) == (3, saved.config, saved.history)
    # one more step from the saved and from the loaded state: the same numbers bit for bit
    for c in (saved, loaded):
        _, grads = model.loss_and_grads(c.params, x, rng=c.rng)
        opt.step(c.params, grads, c.opt_state)
    assert np.array_equal(loaded.params.flat, saved.params.flat)
    assert np.array_equal(loaded.rng.random(5), saved.rng.random(5))


def test_an_interrupted_write_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, state,
                                                                                  monkeypatch):
    model, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    before = path.read_bytes()
    saved.params.flat[:] += 1.0
    saved.epoch = 4

    def interrupted_replace(src, dst):
        raise KeyboardInterrupt  # Ctrl-C between writing the temporary file and the rename

    monkeypatch.setattr(_atomic.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(path, saved)
    monkeypatch.undo()

    def half_written(f, **arrays):
        f.write(b"PK\x03\x04 half of a zip")
        raise OSError("disk full")

    monkeypatch.setattr(ck.np, "savez", half_written)
    with pytest.raises(OSError, match="disk full"):
        ck.save_checkpoint(path, saved)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]
    assert ck.load_checkpoint(path, model.param_shapes()).epoch == 3


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at .*nothere.npz"):
        ck.load_checkpoint(tmp_path / "nothere.npz")


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes", "empty", "zip header only"])
def test_damaged_files_give_a_clear_error_naming_the_path(tmp_path, state, damage):
    _, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped bytes":  # inside the stored parameter array: the zip's CRC catches it
        start = data.index(saved.params.flat[10:30].tobytes())
        data[start:start + 40] = bytes(b ^ 0xFF for b in data[start:start + 40])
    elif damage == "empty":
        data = b""
    else:
        data = data[:40]
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"c\.npz is not a readable checkpoint") as err:
        ck.load_checkpoint(path)
    message = str(err.value)
    assert "It is damaged (truncated or corrupt): restore it from a copy, or train the run again" in message
    assert "pickle" not in message


def _object_npz(path):
    np.savez(path, params=np.array([{"not": "numbers"}], dtype=object))


def _zip_of_text(path):
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "hello")


def _npy(path):
    np.save(open(path, "wb"), np.zeros(3))


FOREIGN = {  # a file that is not a checkpoint, and what the message says it is
    "hello": (lambda p: p.write_bytes(b"hello\n"), r"an \.npz \(zip\) archive, this file begins with "
                                                   r"b'hello"),
    "csv": (lambda p: p.write_text("epoch,loss\n1,2.0\n"), "this file begins with b'epoch,loss"),
    "one array": (_npy, r"it is one NumPy array \(a \.npy file\)"),
    "an npz of something else": (lambda p: np.savez(p, weights=np.zeros(3)),
                                 r"expected entries 'meta' and 'params', found \['weights'\]"),
    "objects (a pickle)": (_object_npz, r"its entry 'params' holds Python objects \(a pickle\)"),
    "a zip of other files": (_zip_of_text, r"a zip archive of other files \(notes\.txt\)"),
    "a folder": (lambda p: p.mkdir(), "it is a folder, not a file"),
}


@pytest.mark.parametrize("make, says", FOREIGN.values(), ids=FOREIGN.keys())
def test_a_file_that_is_not_a_checkpoint_says_so_and_what_to_do_and_is_never_unpickled(tmp_path, monkeypatch,
                                                                                      make, says):
    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("a checkpoint file must never be unpickled")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    path = tmp_path / "c.npz"
    make(path)
    with pytest.raises(ValueError, match=r"c\.npz is not a numvae checkpoint") as err:
        ck.load_checkpoint(path)
    message = str(err.value)
    assert re.search(says, message), message
    assert "numvae reads only the checkpoint.npz files that 'numvae train'" in message
    assert "allow_pickle" not in message and "unsafely" not in message


def test_checkpoints_are_never_read_with_np_load(tmp_path, state, monkeypatch):
    """np.load would fall back to pickle for a file it does not recognise; numvae reads the
    archive itself, .npy header first."""
    model, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    monkeypatch.setattr(ck.np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    assert np.array_equal(ck.load_checkpoint(path, model.param_shapes()).params.flat, saved.params.flat)


def _rewrite_meta(path, **changes):
    with np.load(path) as npz:
        entries = {k: npz[k] for k in npz.files}
    meta = json.loads(str(entries["meta"]))
    meta.update(changes)
    entries["meta"] = np.array(json.dumps(meta))
    np.savez(path, **entries)


def test_format_version_is_checked(tmp_path, state):
    _, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    _rewrite_meta(path, format_version=ck.FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match=f"format version {ck.FORMAT_VERSION + 1}.*reads version "
                                         f"{ck.FORMAT_VERSION}: open it with the numvae that wrote it"):
        ck.load_checkpoint(path)


def test_mismatched_parameters_are_listed_one_by_one(tmp_path, state):
    _, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    other = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(10,), latent=3, variance_head="relu"))
    with pytest.raises(ValueError) as err:
        ck.load_checkpoint(path, expected_shapes=other.param_shapes())
    message = str(err.value)
    assert "c.npz does not match the model" in message
    assert "enc.0.W has shape (64, 12), expected (64, 10)" in message
    assert "missing enc.sigma.W (expected shape (10, 3))" in message
    assert "unexpected enc.logvar.W (shape (12, 3))" in message
    assert "it was written for another model" in message


def test_inconsistent_contents_are_reported(tmp_path, state):
    _, saved, _, _ = state
    path = ck.save_checkpoint(tmp_path / "c.npz", saved)
    with np.load(path) as npz:
        entries = {k: npz[k] for k in npz.files}
    np.savez(path, **{**entries, "opt.m": entries["opt.m"][:-1]})
    with pytest.raises(ValueError, match=r"opt\.m' must have shape \(\d+,\), found shape"):
        ck.load_checkpoint(path)
    np.savez(path, **{**entries, "params": entries["params"][:5]})
    with pytest.raises(ValueError, match="'params' must be a 1-D float array"):
        ck.load_checkpoint(path)
    np.savez(path, **entries)
    _rewrite_meta(path, rng_state={"bit_generator": "Mystery", "state": {}})
    with pytest.raises(ValueError, match="rng_state must name one of"):
        ck.load_checkpoint(path)


def test_save_refuses_what_it_cannot_store(tmp_path, state):
    _, saved, _, _ = state
    with pytest.raises(TypeError, match="params must be a ParamDict"):
        ck.save_checkpoint(tmp_path / "c.npz", ck.Checkpoint(dict(saved.params), saved.opt_state,
                                                             saved.rng, 1, {}))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        ck.save_checkpoint(tmp_path / "c.npz", ck.Checkpoint(saved.params, saved.opt_state, 0, 1, {}))
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        ck.save_checkpoint(tmp_path / "c.npz", ck.Checkpoint(saved.params, saved.opt_state,
                                                             saved.rng, -1, {}))
    assert not (tmp_path / "c.npz").exists()
