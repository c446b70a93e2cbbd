"""``numvae evaluate DIR``: the test ELBO and the importance-weighted estimate of log p(x).

With k draws z_i ~ q(z|x) and log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x),

    ELBO  ~  (1/k) sum_i log w_i          L_k = log (1/k) sum_i w_i  <=  log p(x)

Both come from the same draws, so L_k >= the ELBO estimate for every image (Jensen's
inequality: the log of a mean is at least the mean of the logs) and the printed gap is
never negative. As k grows the gap approaches log p(x) - ELBO = KL(q(z|x) || p(z|x)),
the slack the encoder's approximate posterior leaves. Everything is in nats per image,
averaged over the test images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..data.dataset import binarize_dynamic
from ..iwae import importance_estimates
from ..train import evaluate
from ..vae import VAE
from .options import (
    UsageError,
    add_data_dir_option,
    check_data_env,
    check_run_data,
    data_facts,
    is_conditional,
    load_split,
    nonnegative_int,
    positive_int,
    progress_bar,
    run_argument,
)

EXAMPLES = """examples:
  numvae evaluate runs/digits                  # k = 1000 importance samples per image
  numvae evaluate runs/digits --k 5000 --seed 1
  numvae evaluate runs/mnist --n 1000          # the first 1000 test images only, faster
  numvae evaluate runs/cvae                    # a conditional VAE: log p(x | y), each image's own label
"""

def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="test -ELBO and the importance-weighted log p(x) of a run",
                       description="Evaluate a trained run on its test set: -ELBO with its "
                                   "reconstruction and KL parts, and the IWAE estimate L_k of log p(x) "
                                   "(of log p(x | y) for a conditional VAE).",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="run folder written by numvae train")
    p.add_argument("--k", type=positive_int, default=1000,
                   help="importance samples per image (default: 1000)")
    p.add_argument("--n", type=positive_int, default=None, help="evaluate the first n test images only")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the evaluation's Generator (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_data_dir_option(p)
    p.set_defaults(run=run, check=check)


def check(args) -> None:
    check_data_env()
    args.loaded = run_argument("DIR", args.run_dir)
    config = args.loaded[1].config
    check_run_data(config, args.data_dir)
    size = data_facts(config["dataset"]).test_size
    if args.n is not None and args.n > size:
        raise UsageError("argument --n", f"at most {size}, the test images of {config['dataset']}",
                         str(args.n))


def run(args) -> int:
    model, ckpt = args.loaded
    config = ckpt.config
    test_set = load_split(config, "test", args.data_dir)
    x = test_set.x[: args.n].astype(ckpt.params.flat.dtype, copy=False)
    y = test_set.y[: args.n] if is_conditional(config) else None
    rng = np.random.default_rng(args.seed)
    if config["binarize"] == "dynamic":
        x = binarize_dynamic(x, rng)  # one fixed binary draw, so the ELBO and L_k see the same images
    print(f"run {args.run_dir} after epoch {ckpt.epoch}: {len(x)} test images of {config['dataset']} "
          f"(binarize={config['binarize']})")
    elbo_parts = evaluate(model, ckpt.params, x, rng, y=y)
    if not isinstance(model, VAE):
        print(f"reconstruction  {elbo_parts['recon']:10.3f} nats per image")
        print("a plain autoencoder has no prior and no q(z|x): no ELBO and no log p(x) to estimate")
        return 0
    elbo, log_px = importance_estimates(model, ckpt.params, x, args.k, rng, progress=progress_bar(args.quiet),
                                        y=y)
    given = " | y" if y is not None else ""
    draws = f"{model.config.k} draws" if model.config.objective == "iwae" else "1 draw"
    print(f"{f'test -ELBO, {draws} per image':<31}{elbo_parts['loss']:10.3f} nats  "
          f"(reconstruction {elbo_parts['recon']:.3f} + KL {elbo_parts['kl']:.3f})")
    print(f"{'ELBO, mean of k log w':<31}{elbo.mean():10.3f} nats")
    print(f"{f'log p(x{given}) >= L_k':<31}{log_px.mean():10.3f} nats  (importance-weighted, k = {args.k})")
    print(f"gap L_k - ELBO                 {(log_px - elbo).mean():10.3f} nats")
    return 0
