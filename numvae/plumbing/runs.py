"""A run folder: what ``numvae train`` writes and ``evaluate``, ``sample``, ``plot`` read.

    DIR/config.json      the run's settings (model, data, optimizer, seed, epochs)
    DIR/metrics.csv      one row per finished epoch (appended as training goes)
    DIR/checkpoint.npz   parameters, optimizer and Generator state after the last epoch
    DIR/figures/*.png    the figures

The checkpoint is the authority: it carries the config and the history too, so a
folder can be resumed, evaluated or plotted from it alone; config.json and metrics.csv
are for people (and spreadsheets). Every file here is written atomically.

A run's config is a flat dict, e.g.

    {"model": "vae", "input_dim": 64, "hidden": [128], "latent": 2, "likelihood":
     "bernoulli", "variance_head": "logvar", "sigma_floor": 0.05, "output_logvar": 0.0,
     "activation": "relu", "classes": 0, "prior": "standard", "components": 0,
     "objective": "elbo", "k": 1, "arch": "mlp", "conv_channels": [32, 64],
     "image_shape": [8, 8], "padding": null, "dataset": "digits", "data_dir": null,
     "binarize": "none", "epochs": 40, "batch_size": 64, "optimizer": "adam", "lr": 0.001,
     "momentum": 0.9, "beta": 1.0, "kl_warmup": 0, "seed": 0, "numvae_version": "0.1.0"}

"model" is "vae", "ae" (the plain autoencoder) or "cvae" (the conditional VAE, with
"classes" > 0). "arch" is "mlp" or "conv" (the lecture's convolutional VAE, with
"conv_channels" [C1, C2]). "image_shape" is what the network reads; "padding" is null, or
[[top, bottom], [left, right]], the zeros put around the data set's own images to make
them that shape (MNIST's 28 x 28 to the convolutional VAE's 32 x 32, input_dim 1024), so
that every command that reads the run feeds its network the same images. Runs written
before a ModelConfig field existed (activation, classes, prior, components, objective, k,
arch, conv_channels) lack its key: it takes ModelConfig's default, which is what those
runs were trained with; a run without "padding" was not padded.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from ..autoencoder import Autoencoder
from ..model_config import ModelConfig
from ..optim import SGD, Adam
from ..vae import CVAE, VAE
from .atomic import atomic_write_json, atomic_write_text
from .checkpoint import Checkpoint, load_checkpoint

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.npz"
FIGURES = "figures"
METRIC_COLUMNS = ("epoch", "beta", "binarize", "train_loss", "train_recon", "train_kl",
                  "test_loss", "test_recon", "test_kl", "seconds")
MODEL_KEYS = ("input_dim", "hidden", "latent", "likelihood", "variance_head", "sigma_floor",
              "output_logvar")
# Fields added to ModelConfig later: a config without them takes ModelConfig's defaults.
LATER_MODEL_KEYS = ("activation", "classes", "prior", "components", "objective", "k", "arch",
                    "conv_channels", "image_shape")
MODELS = {"vae": VAE, "ae": Autoencoder, "cvae": CVAE}


def with_model_defaults(config: dict) -> dict:
    """``config`` with ModelConfig's default for every model key it lacks (an older run's),
    and ``padding`` None (no padding) when it lacks that."""
    defaults = {f.name: list(f.default) if isinstance(f.default, tuple) else f.default
                for f in fields(ModelConfig) if f.name in LATER_MODEL_KEYS}
    return {**defaults, "padding": None, **config}


def build_model(config: dict):
    """The VAE, CVAE or Autoencoder a run config describes."""
    if config.get("model") not in MODELS:
        raise ValueError(f"config['model'] must be one of {tuple(MODELS)}, got {config.get('model')!r}")
    missing = [k for k in MODEL_KEYS if k not in config]
    if missing:
        raise ValueError(f"config is missing the model settings {missing}")
    config = with_model_defaults(config)
    return MODELS[config["model"]](ModelConfig(**{k: config[k] for k in MODEL_KEYS + LATER_MODEL_KEYS}))


def network_sizes(config) -> str:
    """The network in one token: '64-128-2' (an MLP), '32x32-conv32-conv64-128-2' (arch conv).

    ``config`` is a run config (dict) or a ModelConfig; the decoder mirrors what is shown.
    """
    c = config.to_dict() if isinstance(config, ModelConfig) else with_model_defaults(config)
    if c["arch"] == "conv":
        (height, width), (c1, c2) = c["image_shape"], c["conv_channels"]
        first = [f"{height}x{width}", f"conv{c1}", f"conv{c2}"]
    else:
        first = [str(c["input_dim"])]
    return "-".join([*first, *map(str, c["hidden"]), str(c["latent"])])


def image_shape(config: dict) -> tuple[int, int]:
    """(height, width) of the run's images, as stored in its config."""
    shape = config.get("image_shape")
    if not (isinstance(shape, list) and len(shape) == 2 and shape[0] * shape[1] == config.get("input_dim")):
        raise ValueError(f"config['image_shape'] must be [height, width] with height * width = input_dim "
                         f"({config.get('input_dim')}), got {shape!r}")
    return shape[0], shape[1]


def build_optimizer(config: dict):
    """Adam(lr) or SGD(lr, momentum) from a run config."""
    if config.get("optimizer") == "adam":
        return Adam(lr=config["lr"])
    if config.get("optimizer") == "sgd":
        return SGD(lr=config["lr"], momentum=config["momentum"])
    raise ValueError(f"config['optimizer'] must be 'adam' or 'sgd', got {config.get('optimizer')!r}")


def write_config(folder: str | os.PathLike, config: dict) -> Path:
    return atomic_write_json(Path(folder) / CONFIG, config)


def _format(value) -> str:
    # repr of a Python float round-trips exactly, so the CSV holds the metrics bit for bit
    return repr(float(value)) if not isinstance(value, (str, int)) else str(value)


def _csv_rows(records: Sequence[dict], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(METRIC_COLUMNS)
    for r in records:
        writer.writerow([_format(r[c]) for c in METRIC_COLUMNS])
    return buf.getvalue()


def write_metrics(folder: str | os.PathLike, history: Sequence[dict]) -> Path:
    """(Re)write DIR/metrics.csv with a header and one row per record, atomically."""
    return atomic_write_text(Path(folder) / METRICS, _csv_rows(history, header=True))


def append_metrics(folder: str | os.PathLike, record: dict) -> Path:
    """Append one epoch's row to DIR/metrics.csv (with a header if the file is new)."""
    path = Path(folder) / METRICS
    new = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write(_csv_rows([record], header=new))
    return path


def read_metrics(folder: str | os.PathLike) -> list[dict]:
    """Rows of DIR/metrics.csv as records (epoch int, binarize str, the rest float)."""
    path = Path(folder) / METRICS
    if not path.is_file():
        raise FileNotFoundError(f"no metrics file at {path}")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    try:
        return [{c: int(r[c]) if c == "epoch" else r[c] if c == "binarize" else float(r[c])
                 for c in METRIC_COLUMNS} for r in rows]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path} has a malformed row ({err}); expected columns {METRIC_COLUMNS}") from None


def load_run(folder: str | os.PathLike):
    """(model, checkpoint) of a run folder, the parameters checked against the model.

    The checkpoint's config comes back with every model key (``with_model_defaults``).
    """
    path = Path(folder) / CHECKPOINT
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"no run folder at {folder}")
    ckpt: Checkpoint = load_checkpoint(path)
    if not isinstance(ckpt.config, dict):
        raise ValueError(f"{path} is not a numvae run's checkpoint: its config is not a dict of settings")
    try:
        model = build_model(ckpt.config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} holds an unusable model config: {err}") from None
    ckpt.config = with_model_defaults(ckpt.config)
    ckpt.check_shapes(model.param_shapes(), source=str(path))
    return model, ckpt
