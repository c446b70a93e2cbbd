"""``numvae evaluate DIR``: the test ELBO and the importance-weighted estimate of log p(x).

    log p(x)  >=  L_k = E log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)  >=  L_1 = ELBO

Both are averaged over the test images and reported in nats per image; the gap
L_k - ELBO is (an estimate of, at most) the KL(q(z|x) || p(z|x)) the encoder leaves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..data.dataset import binarize_dynamic
from ..importance import iwae_log_px
from ..runs import load_run
from ..train import evaluate
from ..vae import VAE
from .options import add_data_dir_option, load_split, positive_int

EXAMPLES = """examples:
  numvae evaluate runs/digits                  # k = 1000 importance samples per image
  numvae evaluate runs/digits --k 5000 --seed 1
  numvae evaluate runs/mnist --n 1000          # the first 1000 test images only, faster
"""

CHUNK = 100  # test images per progress-bar step; iwae_log_px bounds the memory within


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="test -ELBO and the importance-weighted log p(x) of a run",
                       description="Evaluate a trained run on its test set: -ELBO with its "
                                   "reconstruction and KL parts, and the IWAE estimate L_k of log p(x).",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="run folder written by numvae train")
    p.add_argument("--k", type=positive_int, default=1000,
                   help="importance samples per image (default: 1000)")
    p.add_argument("--n", type=positive_int, default=None, help="evaluate the first n test images only")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation's Generator (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_data_dir_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    model, ckpt = load_run(args.run_dir)
    config = ckpt.config
    test_set = load_split(config, "test", args.data_dir)
    x = test_set.x[: args.n].astype(ckpt.params.flat.dtype, copy=False)
    rng = np.random.default_rng(args.seed)
    if config["binarize"] == "dynamic":
        x = binarize_dynamic(x, rng)  # one fixed binary draw, so the ELBO and L_k see the same images
    print(f"run {args.run_dir} after epoch {ckpt.epoch}: {len(x)} test images of {config['dataset']} "
          f"(binarize={config['binarize']})")
    elbo_parts = evaluate(model, ckpt.params, x, rng)
    if not isinstance(model, VAE):
        print(f"reconstruction  {elbo_parts['recon']:10.3f} nats per image")
        print("a plain autoencoder has no prior and no q(z|x): no ELBO and no log p(x) to estimate")
        return 0
    elbo = -elbo_parts["loss"]
    bar = tqdm(total=len(x), desc=f"log p(x), k={args.k}", unit="image",
               disable=args.quiet or not sys.stderr.isatty(), leave=False)
    log_px = np.empty(len(x))
    with bar:
        for start in range(0, len(x), CHUNK):
            log_px[start:start + CHUNK] = iwae_log_px(model, ckpt.params, x[start:start + CHUNK], args.k, rng)
            bar.update(len(log_px[start:start + CHUNK]))
    estimate = float(log_px.mean())
    print(f"test -ELBO          {elbo_parts['loss']:10.3f} nats  (reconstruction {elbo_parts['recon']:.3f} "
          f"+ KL {elbo_parts['kl']:.3f})")
    print(f"ELBO                {elbo:10.3f} nats")
    print(f"log p(x) >= L_k     {estimate:10.3f} nats  (importance-weighted, k = {args.k})")
    print(f"gap L_k - ELBO      {estimate - elbo:10.3f} nats")
    return 0
