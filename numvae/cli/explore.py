"""``numvae explore``: write the interactive latent-space explorer of a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..explorer import build_explorer_html, write_explorer
from ..plumbing.runs import network_sizes
from .figures import latent_codes
from .options import (
    add_data_dir_option,
    check_data_env,
    check_run_data,
    is_conditional,
    load_split,
    output_file,
    padded_from,
    run_argument,
)

EXAMPLES = """examples:
  python -m numvae explore runs/digits                       # writes runs/digits/explorer.html
  python -m numvae explore runs/mnist --out explorer.html
  python -m numvae explore runs/cvae                         # a conditional VAE: a label selector too
  python -m numvae explore runs/conv                         # a convolutional VAE: the page runs its
                                                             # transposed convolutions too
Open the file in any browser: it needs no server and no network.
"""


def add_parser(sub) -> None:
    p = sub.add_parser("explore", help="write a self-contained web page to explore the latent space",
                       description="Write one HTML file in which dragging a point through the latent "
                                   "space shows the decoder's image of it, live.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="a run folder written by 'numvae train'")
    p.add_argument("--out", type=output_file(".html"), default=None,
                   help="output HTML file (default: DIR/explorer.html)")
    add_data_dir_option(p)
    p.set_defaults(run=run, check=check)


def check(args) -> None:
    check_data_env()
    args.loaded = run_argument("DIR", args.run_dir)
    check_run_data(args.loaded[1].config, args.data_dir)


def run(args) -> int:
    model, ckpt = args.loaded
    config = ckpt.config
    test = load_split(config, "test", args.data_dir)
    y = test.y if is_conditional(config) else None
    mu = latent_codes(model, ckpt.params, test.x.astype(ckpt.params.flat.dtype), y)
    last = ckpt.history[-1] if ckpt.history else None
    elbo = (f"{last['test_loss']:.3f} nats (recon {last['test_recon']:.3f} + KL {last['test_kl']:.3f})"
            if last else "not evaluated")
    source = padded_from(config)
    padded = "" if source is None else (f", zero-padded from {source[0]}x{source[1]} to "
                                        f"{config['image_shape'][0]}x{config['image_shape'][1]}")
    info = {
        "run": str(args.run_dir),
        "model": f"{config.get('model', 'vae')}: {network_sizes(config)} (decoder mirrors it)",
        "data set": f"{config['dataset']} (binarize: {config.get('binarize', 'none')}{padded})",
        "likelihood": config["likelihood"],
        "variance head": config.get("variance_head", "-"),
        "hidden activation": config.get("activation", "relu"),
        "prior": ("N(0, I)" if config.get("prior", "standard") == "standard"
                  else f"a learned mixture of {config['components']} Gaussians"),
        "objective": "ELBO" if config.get("objective", "elbo") == "elbo" else f"IWAE L_{config['k']}",
        "epochs trained": ckpt.epoch,
        "test -ELBO": elbo,
    }
    if is_conditional(config):
        info["labels"] = f"{config['classes']} classes, one-hot on the encoder's and decoder's inputs"
    page = build_explorer_html(model, ckpt.params, mu, test.y, test.image_shape, info)
    out = write_explorer(args.out or args.run_dir / "explorer.html", page)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): open it in a browser")
    return 0
