"""``numvae train``: train a model, checkpoint every epoch, resume, write figures.

A run lives in one folder (see ``numvae.plumbing.runs``). After every epoch the metrics line is
printed and appended to metrics.csv, then checkpoint.npz is replaced atomically. The
checkpoint holds the Generator's state as it is after the epoch's evaluation, so
``--resume`` continues the very same random stream and the resumed run matches the
uninterrupted one bit for bit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .. import __version__
from ..data import DATASET_NAMES
from ..model_config import ModelConfig
from ..plumbing.checkpoint import Checkpoint, save_checkpoint
from ..plumbing.runs import (
    CHECKPOINT,
    FIGURES,
    METRICS,
    append_metrics,
    build_model,
    build_optimizer,
    network_sizes,
    write_config,
    write_metrics,
)
from ..train import evaluate, fit, format_record
from . import figures
from .options import (
    UsageError,
    add_data_dir_option,
    add_figure_options,
    add_model_options,
    check_data_env,
    check_figure_options,
    check_kl_options,
    check_run_data,
    data_facts,
    is_conditional,
    load_split,
    model_settings,
    nonnegative_float,
    nonnegative_int,
    option_name,
    output_folder,
    padded_from,
    positive_float,
    positive_int,
    progress_bar,
    run_argument,
)

EXAMPLES = """examples:
  numvae train                                        # digits, 2-D latent, folder runs/digits
  numvae train --epochs 100 --out runs/seed           # train longer, elsewhere
  numvae train --variance-head relu                   # the seed's sigma = ReLU(h) + 0.05
  numvae train --dataset mnist --data-dir ~/data --binarize dynamic --hidden 512,256
  numvae train --beta 4 --kl-warmup 10                # beta-VAE, KL weight ramped over 10 epochs
  numvae train --model cvae --out runs/cvae           # conditional VAE; then: sample runs/cvae --label 7
  numvae train --objective iwae --k 5                 # train on the importance-weighted bound L_5
  numvae train --prior mixture --components 10        # a learned mixture-of-Gaussians prior
  numvae train --activation elu --hidden 200,200      # ELU (or tanh) hidden layers
  numvae train --arch conv --out runs/conv           # the lecture's convolutional VAE (digits: 8x8, unpadded)
  numvae train --arch conv --dataset mnist            # MNIST zero-padded to 32x32, as the lecture does
  numvae train --arch conv --conv-channels 16,32 --model cvae --prior mixture   # the axes compose
  numvae train --resume runs/seed --epochs 150        # continue a run (after Ctrl-C, or for longer)

(python -m numvae train ... is the same command.)
"""

DEFAULTS = {"dataset": "digits", "binarize": "none", "model": "vae", "latent": 2, "hidden": (128,),
            "likelihood": "bernoulli", "variance_head": "logvar", "activation": "relu", "arch": "mlp",
            "conv_channels": None, "prior": "standard", "components": None, "objective": "elbo", "k": None,
            "epochs": 40, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "beta": 1.0, "kl_warmup": 0,
            "seed": 0}
MODEL_OPTIONS = ("model", "latent", "hidden", "likelihood", "variance_head", "activation", "arch",
                 "conv_channels", "prior", "components", "objective", "k")
# Options that define a run: with --resume they may be repeated but not changed.
RUN_OPTIONS = tuple(k for k in DEFAULTS if k != "epochs")
SGD_MOMENTUM = 0.9
INTERRUPTED = 130  # the shell's exit status for a process stopped by Ctrl-C (128 + SIGINT)


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a VAE; metrics, checkpoints and figures in a run folder",
                       description="Train a VAE (or a conditional VAE, or a plain autoencoder). Writes "
                                   "DIR/config.json, DIR/metrics.csv (one row per epoch), "
                                   "DIR/checkpoint.npz (after every epoch) and DIR/figures/*.png.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=DATASET_NAMES, default=None,
                   help="data set (default: digits, embedded and offline)")
    add_data_dir_option(p)
    p.add_argument("--binarize", choices=("none", "static", "dynamic"), default=None,
                   help="none: grey levels; static: threshold at 0.5 once; dynamic: a fresh Bernoulli "
                        "draw of every image each epoch (default: none)")
    add_model_options(p, DEFAULTS, help_default=True)
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="total epochs; with --resume, train until this many (default: 40)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="mini-batch size (default: 64)")
    p.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: 0.001)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=None,
                   help=f"adam, or sgd with momentum {SGD_MOMENTUM} (default: adam)")
    p.add_argument("--beta", type=nonnegative_float, default=None,
                   help="KL weight; 1 is the true ELBO (default: 1)")
    p.add_argument("--kl-warmup", type=nonnegative_int, default=None,
                   help="epochs over which the KL weight rises linearly to beta (default: 0, none)")
    p.add_argument("--seed", type=nonnegative_int, default=None,
                   help="seed of the run's Generator (default: 0)")
    p.add_argument("--out", type=output_folder, default=None, metavar="DIR",
                   help="run folder (default: runs/<dataset>, or runs/<dataset>-2, -3, ... "
                        "when that already holds a run)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run in DIR from its checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh even if --out already holds a run (deletes its checkpoint)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_figure_options(p)
    p.set_defaults(run=run, check=check)


def free_run_folder(base: Path) -> Path:
    """``base`` if it holds no run yet, else the first of base-2, base-3, ... that does not.

    Only for the default folder: running the README's command twice keeps both runs, as
    with numbered experiment folders elsewhere. An explicit --out is never renamed.
    """
    folder, n = base, 1
    while (folder / CHECKPOINT).exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def check(args) -> None:
    """Every rule between the options, and the run folder, before any data is loaded."""
    check_figure_options(args)
    check_data_env()
    args.plan = resumed_run(args) if args.resume is not None else new_run(args)


def new_run(args):
    """(folder, config, checkpoint=None) for a run that starts from epoch 0; nothing is written."""
    settings = {k: v if getattr(args, k) is None else getattr(args, k) for k, v in DEFAULTS.items()}
    dataset, facts = settings["dataset"], data_facts(settings["dataset"])
    model = model_settings({k: settings[k] for k in MODEL_OPTIONS}, dataset)
    check_kl_options(args.beta, args.kl_warmup, model["model"], model["objective"])
    if facts.binary and settings["binarize"] == "dynamic":
        raise UsageError("argument --binarize", f"none or static with --dataset {dataset} (it is binary "
                         "already: one fixed draw)", "dynamic")
    folder = args.out if args.out is not None else free_run_folder(Path("runs") / dataset)
    if (folder / CHECKPOINT).exists() and not args.overwrite:
        raise UsageError("argument --out", "a folder without a run; continue this one with "
                         f"--resume {folder}, start it afresh with --overwrite, or choose another --out",
                         f"{str(folder)!r}, which already holds a run ({CHECKPOINT})")
    height, width = model["image_shape"]  # the network's input: padded to 32x32 for a conv MNIST
    model_config = ModelConfig(input_dim=height * width, hidden=model["hidden"], latent=model["latent"],
                               likelihood=model["likelihood"], variance_head=model["variance_head"],
                               activation=model["activation"], arch=model["arch"],
                               image_shape=(height, width), conv_channels=model["conv_channels"],
                               classes=facts.classes if model["model"] == "cvae" else 0,
                               prior=model["prior"], components=model["components"],
                               objective=model["objective"], k=model["k"])
    config = {"model": model["model"], "dataset": dataset,
              # the embedded digits read no folder: a --data-dir (checked to exist) is not kept
              "data_dir": (None if args.data_dir is None or dataset == "digits"
                           else str(args.data_dir.resolve())),
              **model_config.to_dict(),
              # zeros around the data set's own images ([[top, bottom], [left, right]]), or None
              "padding": model["padding"],
              # a data set may come binary already
              "binarize": "static" if facts.binary else settings["binarize"]}
    config.update({k: settings[k] for k in ("epochs", "batch_size", "optimizer", "lr", "beta",
                                            "kl_warmup", "seed")})
    config.update(momentum=SGD_MOMENTUM, numvae_version=__version__)
    build_model(config)  # the whole model is valid before anything is loaded or written
    build_optimizer(config)
    return folder, config, None


def resumed_run(args):
    """(folder, config, checkpoint) of the run in --resume DIR, checked against the options."""
    folder = args.resume
    if args.overwrite:
        raise UsageError("argument --overwrite", "no --resume with it (--resume keeps the run)",
                         f"--resume {folder}")
    if args.out is not None and args.out.resolve() != folder.resolve():
        raise UsageError("argument --out", f"no --out, or --out {folder}: a resumed run stays in its folder",
                         f"--out {args.out}")
    _, ckpt = run_argument("--resume", folder)
    config = dict(ckpt.config)
    conflicts = []
    for key in RUN_OPTIONS:
        given = getattr(args, key)
        if isinstance(given, tuple):  # --hidden, --conv-channels: stored as JSON lists
            given = list(given)
        if given is not None and given != config.get(key):
            conflicts.append(f"{option_name(key)} {given!r} (the run has {config.get(key)!r})")
    if conflicts:
        raise UsageError("argument --resume", f"options that agree with the run in {folder} (leave them "
                         "out to continue it as it was, or start a new run with --out)", "; ".join(conflicts))
    epochs = config["epochs"] if args.epochs is None else args.epochs
    if epochs < ckpt.epoch:
        raise UsageError("argument --epochs", f"at least the {ckpt.epoch} epochs the run in {folder} has "
                         "finished", str(epochs))
    config["epochs"] = epochs
    check_run_data(config, args.data_dir)
    if args.data_dir is not None and config["dataset"] != "digits":
        config["data_dir"] = str(args.data_dir.resolve())
    return folder, config, ckpt


def describe(config: dict, train_size: int, test_size: int) -> str:
    sizes = network_sizes(config)
    parts = [config["likelihood"]]
    if config["model"] != "ae":
        parts.append(f"{config['variance_head']} head")
    if config.get("activation", "relu") != "relu":
        parts.append(config["activation"])
    if config.get("classes"):
        parts.append(f"{config['classes']} classes")
    if config.get("prior") == "mixture":
        parts.append(f"mixture prior of {config['components']}")
    if config.get("objective") == "iwae":
        parts.append(f"IWAE k={config['k']}")
    source = padded_from(config)
    padded = "" if source is None else (f" zero-padded from {source[0]}x{source[1]} to "
                                        f"{config['image_shape'][0]}x{config['image_shape'][1]}")
    return (f"{config['model'].upper()} {sizes} ({', '.join(parts)}) on {config['dataset']}{padded} "
            f"({train_size} train / {test_size} test images, binarize={config['binarize']})")


def run(args) -> int:
    folder, config, ckpt = args.plan
    train_set = load_split(config, "train", args.data_dir)
    test_set = load_split(config, "test", args.data_dir)
    if test_set.x.shape[1] != config["input_dim"]:
        raise ValueError(f"{config['dataset']} has {test_set.x.shape[1]} pixels per image, but the run's "
                         f"model reads {config['input_dim']}")
    model, optimizer = build_model(config), build_optimizer(config)
    labels = is_conditional(config)
    train_y, test_y = (train_set.y, test_set.y) if labels else (None, None)
    if ckpt is None:
        rng = np.random.default_rng(config["seed"])
        params, opt_state, start, history = model.init_params(rng), None, 0, []
    else:
        rng, params, opt_state = ckpt.rng, ckpt.params, ckpt.opt_state
        start, history = ckpt.epoch, ckpt.history
    binarize = None if config["binarize"] == "none" else config["binarize"]

    if ckpt is None and args.overwrite:
        for stale in [folder / CHECKPOINT, folder / METRICS, *(folder / FIGURES).glob("*.png")]:
            stale.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    write_config(folder, config)
    write_metrics(folder, history)  # on resume: drops rows of an epoch the checkpoint never saw
    print(f"{describe(config, len(train_set), len(test_set))}; run folder {folder}")
    if ckpt is None:
        before = evaluate(model, params, test_set.x, np.random.default_rng(config["seed"]),
                          binarize=binarize, y=test_y)
        print(f"untrained: test -ELBO {before['loss']:.3f} "
              f"(rec {before['recon']:.3f} + KL {before['kl']:.3f})")
    else:
        print(f"resuming after epoch {start} of {config['epochs']}")

    saved = {"epoch": start if ckpt is not None else None}

    def on_epoch_end(record: dict, state: dict) -> None:
        history.append(record)
        print(format_record(record), flush=True)
        append_metrics(folder, record)
        save_checkpoint(folder / CHECKPOINT, Checkpoint(params, state, rng, record["epoch"], config, history))
        saved["epoch"] = record["epoch"]

    try:
        fit(model, params, train_set.x, test_set.x, optimizer=optimizer, epochs=config["epochs"], rng=rng,
            batch_size=config["batch_size"], beta=config["beta"], kl_warmup=config["kl_warmup"],
            binarize=binarize, opt_state=opt_state, start_epoch=start, progress=progress_bar(args.quiet),
            on_epoch_end=on_epoch_end, train_y=train_y, test_y=test_y)
    except KeyboardInterrupt:
        if saved["epoch"] is None:
            print("\ninterrupted before the first epoch finished: no checkpoint was written", file=sys.stderr)
        else:
            print(f"\ninterrupted: {folder / CHECKPOINT} holds epoch {saved['epoch']} intact; continue with\n"
                  f"  numvae train --resume {folder}", file=sys.stderr)
        return INTERRUPTED

    for path in figures.write_all(model, params, test_set, history, folder / FIGURES, seed=config["seed"],
                                  grid_size=args.grid_size, z1_range=tuple(args.z1_range),
                                  z2_range=tuple(args.z2_range)):
        print(f"wrote {path}")
    return 0
