"""``numvae explore``: write the interactive latent-space explorer of a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..explorer import build_explorer_html, write_explorer
from ..plumbing.runs import load_run
from .figures import latent_codes
from .options import add_data_dir_option, load_split

EXAMPLES = """examples:
  python -m numvae explore runs/digits                       # writes runs/digits/explorer.html
  python -m numvae explore runs/mnist --out explorer.html
Open the file in any browser: it needs no server and no network.
"""


def add_parser(sub) -> None:
    p = sub.add_parser("explore", help="write a self-contained web page to explore the latent space",
                       description="Write one HTML file in which dragging a point through the latent "
                                   "space shows the decoder's image of it, live.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="DIR", help="a run folder written by 'numvae train'")
    p.add_argument("--out", type=Path, default=None, help="output HTML file (default: DIR/explorer.html)")
    add_data_dir_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    model, ckpt = load_run(args.run_dir)
    config = ckpt.config
    test = load_split(config, "test", args.data_dir)
    mu = latent_codes(model, ckpt.params, test.x.astype(ckpt.params.flat.dtype))
    last = ckpt.history[-1] if ckpt.history else None
    elbo = (f"{last['test_loss']:.3f} nats (recon {last['test_recon']:.3f} + KL {last['test_kl']:.3f})"
            if last else "not evaluated")
    info = {
        "run": str(args.run_dir),
        "model": f"{config.get('model', 'vae')}: {config['input_dim']}-"
                 f"{'-'.join(map(str, config['hidden']))}-{config['latent']} (decoder mirrors it)",
        "data set": f"{config['dataset']} (binarize: {config.get('binarize', 'none')})",
        "likelihood": config["likelihood"],
        "variance head": config.get("variance_head", "-"),
        "epochs trained": ckpt.epoch,
        "test -ELBO": elbo,
    }
    page = build_explorer_html(model, ckpt.params, mu, test.y, test.image_shape, info)
    out = write_explorer(args.out or args.run_dir / "explorer.html", page)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): open it in a browser")
    return 0
