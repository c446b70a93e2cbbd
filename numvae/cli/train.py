"""``numvae train``: train a model, print one metrics line per epoch, write figures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..autoencoder import Autoencoder
from ..data import load_dataset
from ..model import LIKELIHOODS, VARIANCE_HEADS, ModelConfig
from ..optim import SGD, Adam
from ..train import fit, format_record
from ..vae import VAE
from . import figures

EXAMPLES = """examples:
  python -m numvae train                                   # digits, 2-D latent, figures in runs/digits
  python -m numvae train --epochs 100 --latent 2 --out runs/seed
  python -m numvae train --variance-head relu              # the seed's sigma = ReLU(h) + 0.05
  python -m numvae train --likelihood gaussian --hidden 256,128
"""


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512,256' -> (512, 256); '' -> () (no hidden layer)."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a VAE and write metrics and figures",
                       description="Train a VAE (or a plain autoencoder) and write figures.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="digits", help="data set name (default: digits, embedded)")
    p.add_argument("--model", choices=("vae", "ae"), default="vae", help="VAE or plain autoencoder")
    p.add_argument("--latent", type=int, default=2, help="latent dimensions K (default 2)")
    p.add_argument("--hidden", type=parse_hidden, default=(128,), help="hidden widths, e.g. 512,256")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli")
    p.add_argument("--variance-head", choices=VARIANCE_HEADS, default="logvar")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (1 = the true ELBO)")
    p.add_argument("--kl-warmup", type=int, default=0, help="epochs of linear KL warm-up")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/digits"), help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    train_set = load_dataset(args.dataset, "train")
    test_set = load_dataset(args.dataset, "test")
    config = ModelConfig(input_dim=train_set.x.shape[1], hidden=args.hidden, latent=args.latent,
                         likelihood=args.likelihood, variance_head=args.variance_head)
    model = VAE(config) if args.model == "vae" else Autoencoder(config)
    optimizer = Adam(lr=args.lr) if args.optimizer == "adam" else SGD(lr=args.lr, momentum=0.9)
    rng = np.random.default_rng(args.seed)
    params = model.init_params(rng)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "config.json").write_text(json.dumps(
        {"model": args.model, "dataset": args.dataset, **config.to_dict(), "epochs": args.epochs,
         "batch_size": args.batch_size, "lr": args.lr, "optimizer": args.optimizer,
         "beta": args.beta, "kl_warmup": args.kl_warmup, "seed": args.seed}, indent=2))

    before = model.loss(params, test_set.x, rng=np.random.default_rng(args.seed))
    print(f"untrained: test -ELBO {before.loss:.3f} (rec {before.recon:.3f} + KL {before.kl:.3f})")
    history = fit(model, params, train_set.x, test_set.x, optimizer=optimizer, epochs=args.epochs,
                  rng=rng, batch_size=args.batch_size, beta=args.beta, kl_warmup=args.kl_warmup,
                  progress=not args.quiet and sys.stderr.isatty(),
                  on_epoch_end=lambda record, _: print(format_record(record), flush=True))
    for path in figures.write_all(model, params, test_set, history, args.out / "figures"):
        print(f"wrote {path}")
    return 0
