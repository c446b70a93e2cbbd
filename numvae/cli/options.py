"""Options shared by several subcommands, and loading a run's data."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import load_dataset
from ..model_config import LIKELIHOODS, VARIANCE_HEADS


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512,256' -> (512, 256); '' -> () (no hidden layer)."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def _int_at_least(text: str, lowest: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def nonnegative_int(text: str) -> int:
    """A whole number >= 0 (a Generator seed)."""
    return _int_at_least(text, 0, "a whole number >= 0")


def grid_size(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {value}")
    return value


def add_model_options(p: argparse.ArgumentParser, defaults: dict, help_default) -> None:
    """--model, --latent, --hidden, --likelihood, --variance-head.

    ``defaults`` become argparse defaults, unless ``help_default`` is given: then the
    defaults are None (so a command can tell which options were typed) and only shown.
    """
    def default(name):
        return None if help_default else defaults[name]

    def shown(name):
        value = defaults[name]
        return ",".join(map(str, value)) if name == "hidden" else value

    p.add_argument("--model", choices=("vae", "ae"), default=default("model"),
                   help=f"VAE or plain autoencoder (default: {shown('model')})")
    p.add_argument("--latent", type=positive_int, default=default("latent"),
                   help=f"latent dimensions K (default: {shown('latent')})")
    p.add_argument("--hidden", type=parse_hidden, default=default("hidden"),
                   help=f"hidden layer widths, encoder order, e.g. 512,256 (default: {shown('hidden')})")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default=default("likelihood"),
                   help=f"p(x|z): bernoulli = cross-entropy, gaussian = squared error "
                        f"(default: {shown('likelihood')})")
    p.add_argument("--variance-head", choices=VARIANCE_HEADS, default=default("variance_head"),
                   help="encoder's variance output: logvar, or the seed's sigma = ReLU(h) + 0.05 "
                        f"(default: {shown('variance_head')})")


def add_data_dir_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="folder holding the data set files (default: NUMVAE_DATA_DIR, then the cache)")


def add_figure_options(p: argparse.ArgumentParser) -> None:
    """The manifold grid's size and ranges (2-D latent only)."""
    p.add_argument("--grid-size", type=grid_size, default=21,
                   help="tiles per side of the manifold grid (default: 21)")
    p.add_argument("--z1-range", type=float, nargs=2, default=(-10.0, 5.0), metavar=("LOW", "HIGH"),
                   help="z1 range of the manifold grid (default: -10 5, the seed's)")
    p.add_argument("--z2-range", type=float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"),
                   help="z2 range of the manifold grid (default: -5 5, the seed's)")


def load_split(config: dict, split: str, data_dir: Path | None):
    """The run's data set split, binarized as the run was (the stored data_dir as fallback)."""
    binarize = None if config["binarize"] == "none" else config["binarize"]
    folder = data_dir if data_dir is not None else config.get("data_dir")
    return load_dataset(config["dataset"], split, data_dir=folder, binarize=binarize)
