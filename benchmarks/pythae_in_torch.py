"""pythae's VAE setup trained in PyTorch, to tell whether numvae's training is what falls short.

``reproduce.py pythae-rm-vae`` ends 2.7 nats above pythae's published -L_200. This trains
the same setup the way pythae's script does, in PyTorch: its networks (784-400 ReLU, mean
and log-variance heads of 40, 40-400 ReLU-784 sigmoid), binary cross-entropy on the
sigmoid plus the closed-form KL, both summed per image and averaged over the batch,
torch.optim.Adam at 1e-4, batches of 100 reshuffled every epoch, PyTorch's default
initialisation, Larochelle's binarized MNIST. After each epoch it prints the validation
-ELBO (one draw of z per image, averaged over the 10,000 images), the figure numvae's run
records as ``valid_loss`` in its history (``--compare FILE`` prints the two side by side).

If the two curves agree, numvae trains this setup as PyTorch does, and the gap to the
published figure lies in the setup or the published run, not in numvae.

Nothing here is part of numvae, and PyTorch is never a numvae dependency.

    python benchmarks/pythae_in_torch.py --data-dir ~/data --epochs 100 \\
        --compare benchmarks/results/pythae-rm-vae.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numvae as nv
from numvae.plumbing.atomic import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="example:\n  python benchmarks/pythae_in_torch.py --data-dir ~/data "
                                       "--epochs 100 --compare benchmarks/results/pythae-rm-vae.json")
    p.add_argument("--data-dir", help="folder holding binarized_mnist/ (else $NUMVAE_DATA_DIR)")
    p.add_argument("--epochs", type=int, default=30, help="epochs to train (default 30)")
    p.add_argument("--limit", type=int, help="use only the first N training images (smoke runs)")
    p.add_argument("--seed", type=int, default=123, help="torch.manual_seed (pythae's script uses 123)")
    p.add_argument("--compare", type=Path,
                   help="a reproduce.py JSON of pythae-rm-vae: print its valid -ELBO beside")
    p.add_argument("--json", type=Path, help="write the per-epoch validation -ELBO here")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error(f"--epochs must be a positive integer, got {args.epochs}")
    if args.limit is not None and args.limit < 100:
        p.error(f"--limit must be at least one batch (100), got {args.limit}")
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        p.error(f"--data-dir: no such folder: {args.data_dir}")
    if args.compare is not None and not args.compare.is_file():
        p.error(f"--compare: no such file: {args.compare}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import torch
        import torch.nn.functional as F
        from torch import nn
    except ImportError:
        print("pythae_in_torch.py needs PyTorch (pip install torch); numvae itself does not", file=sys.stderr)
        return 2
    numvae_valid = None
    if args.compare is not None:
        numvae_valid = [r["valid_loss"] for r in json.loads(args.compare.read_text())["history"]]
    try:
        train, valid = (torch.tensor(nv.load_dataset("binarized-mnist", split, data_dir=args.data_dir,
                                                     download=False).x) for split in ("train", "valid"))
    except (OSError, ValueError) as error:
        print(f"pythae_in_torch.py: {error}", file=sys.stderr)
        return 2
    train = train[:args.limit]

    torch.manual_seed(args.seed)
    encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU())
    mean_head, logvar_head = nn.Linear(400, 40), nn.Linear(400, 40)
    decoder = nn.Sequential(nn.Linear(40, 400), nn.ReLU(), nn.Linear(400, 784), nn.Sigmoid())
    modules = (encoder, mean_head, logvar_head, decoder)
    optimizer = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=1e-4)

    def negative_elbo(x):  # pythae's VAE.loss_function with reconstruction_loss='bce'
        h = encoder(x)
        mu, logvar = mean_head(h), logvar_head(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        reconstruction = F.binary_cross_entropy(decoder(z), x, reduction="none").sum(-1)
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)
        return (reconstruction + kl).mean()

    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        for batch in torch.randperm(len(train)).split(100):
            optimizer.zero_grad()
            negative_elbo(train[batch]).backward()
            optimizer.step()
        with torch.no_grad():
            v = sum(float(negative_elbo(valid[i:i + 1000])) * len(valid[i:i + 1000])
                    for i in range(0, len(valid), 1000)) / len(valid)
        history.append(v)
        beside = (f"  numvae {numvae_valid[epoch - 1]:.2f}"
                  if numvae_valid is not None and epoch <= len(numvae_valid) else "")
        print(f"epoch {epoch}: valid -ELBO PyTorch {v:.2f}{beside}  {time.perf_counter() - t0:.1f}s",
              flush=True)
    if args.json:
        atomic_write_text(args.json, json.dumps({"valid_negative_elbo": history, "seed": args.seed,
                                                 "torch": str(torch.__version__)}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
