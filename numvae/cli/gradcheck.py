"""``numvae gradcheck``: check every hand-written gradient of a model by central differences.

In float64, for a mini-batch of real images and frozen noise eps, each parameter
entry theta_i is nudged by +-h and (L(theta + h e_i) - L(theta - h e_i)) / 2h compared
with the backward pass's dL/dtheta_i; a correct derivation agrees to ~1e-9 relative
error, a wrong one to ~1e-1. Exit status 1 when any parameter's error reaches 1e-6.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..data import DATASET_NAMES, load_dataset
from ..gradcheck import check_gradients, format_gradient_table
from ..model_config import ModelConfig
from ..plumbing.runs import MODELS, network_sizes
from .options import (
    add_data_dir_option,
    add_model_options,
    check_data_env,
    check_kl_options,
    data_facts,
    finite_float,
    model_settings,
    nonnegative_int,
    pad_as_run,
    positive_int,
    step_size,
)

EXAMPLES = """examples:
  numvae gradcheck                                   # the default small VAE on digits
  numvae gradcheck --variance-head relu --likelihood gaussian --hidden 16,8
  numvae gradcheck --model ae --latent 3
  numvae gradcheck --model cvae                      # the conditional VAE, labels one-hot
  numvae gradcheck --objective iwae --k 3            # the gradient of L_3
  numvae gradcheck --prior mixture --components 3    # the mixture prior's own gradients too
  numvae gradcheck --activation tanh --hidden 8,8
  numvae gradcheck --arch conv                       # the convolutional VAE, 2 and 3 channels, on 8x8 digits
  numvae gradcheck --arch conv --conv-channels 4,8 --model cvae --prior mixture --components 2
  numvae gradcheck --arch conv --dataset mnist --hidden 4 --batch-size 2   # 32x32 (padded MNIST): slower
  numvae gradcheck --dataset mnist --hidden 8        # 784 pixels: about 13k entries per layer

Every parameter entry costs two loss evaluations, so keep the model small.
"""

TOL = 1e-6
DEFAULTS = {"model": "vae", "latent": 2, "hidden": (16,), "likelihood": "bernoulli",
            "variance_head": "logvar", "activation": "relu", "arch": "mlp", "prior": "standard",
            "objective": "elbo"}
MODEL_OPTIONS = ("model", "latent", "hidden", "likelihood", "variance_head", "activation", "arch",
                 "conv_channels", "prior", "components", "objective", "k")
# Every parameter entry costs two loss evaluations: the lecture's 32 and 64 channels would
# be some 46,000 entries on the 8x8 digits (about a minute); 2 and 3 channels check the
# same code paths (every channel sum, both transposed convolutions) in a second or two.
CONV_CHANNELS = (2, 3)


def add_parser(sub) -> None:
    p = sub.add_parser("gradcheck", help="check the model's gradients against finite differences",
                       description="Finite-difference check (float64, central differences) of every "
                                   "parameter's gradient of the loss (-ELBO, or -L_k) for the given "
                                   "model config.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p, DEFAULTS, help_default=False, conv_channels=CONV_CHANNELS,
                      conv_note=", small so that the check is quick; train's default is 32,64")
    p.add_argument("--dataset", choices=DATASET_NAMES, default="digits",
                   help="where the mini-batch comes from (default: digits)")
    add_data_dir_option(p)
    p.add_argument("--batch-size", type=positive_int, default=8, help="images in the batch (default: 8)")
    p.add_argument("--beta", type=finite_float, default=None,
                   help="KL weight of the checked -ELBO, any finite number (default: 1)")
    p.add_argument("--h", type=step_size, default=1e-5, help="finite-difference step (default: 1e-5)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the parameters and eps (default: 0)")
    p.set_defaults(run=run, check=check)


def check(args) -> None:
    check_data_env()
    args.settings = model_settings({k: getattr(args, k) for k in MODEL_OPTIONS}, args.dataset,
                                   conv_channels=CONV_CHANNELS)
    check_kl_options(args.beta, None, args.model, args.settings["objective"])
    args.beta = 1.0 if args.beta is None else args.beta


def run(args) -> int:
    s = args.settings
    data = load_dataset(args.dataset, "train", data_dir=args.data_dir)
    data = pad_as_run(data, {"image_shape": list(s["image_shape"]), "padding": s["padding"]})
    classes = data_facts(args.dataset).classes if s["model"] == "cvae" else 0
    config = ModelConfig(input_dim=data.x.shape[1], hidden=s["hidden"], latent=s["latent"],
                         likelihood=s["likelihood"], variance_head=s["variance_head"],
                         activation=s["activation"], arch=s["arch"], image_shape=s["image_shape"],
                         conv_channels=s["conv_channels"], classes=classes, prior=s["prior"],
                         components=s["components"], objective=s["objective"], k=s["k"])
    model = MODELS[s["model"]](config)
    rng = np.random.default_rng(args.seed)
    params = model.init_params(rng, dtype=np.float64)
    x = data.x[: args.batch_size].astype(np.float64)
    labels = {"y": data.y[: args.batch_size]} if classes else {}
    # frozen noise: the loss is a function of params only; L_k draws k per image
    draws = (config.k,) if config.objective == "iwae" else ()
    eps = rng.standard_normal((*draws, x.shape[0], config.latent))
    padded = "" if s["padding"] is None else " padded to {}x{}".format(*s["image_shape"])
    print(f"checking {params.flat.size} parameter entries of a {s['model'].upper()} "
          f"{network_sizes(config)} on {len(x)} {args.dataset} images{padded} (float64, h = {args.h:g})"
          f"{describe_axes(config)}")
    _, grads = model.loss_and_grads(params, x, eps=eps, beta=args.beta, **labels)
    errors = check_gradients(lambda: model.loss(params, x, eps=eps, beta=args.beta, **labels).loss, params,
                             grads, h=args.h)
    print(format_gradient_table(errors, params.shapes(), threshold=TOL))
    failed = [name for name, err in errors.items() if not err < TOL]
    if failed:
        print(f"FAILED: {len(failed)} of {len(errors)} parameters have relative error >= {TOL:g}: "
              + ", ".join(failed))
        return 1
    print(f"all {len(errors)} parameters agree: largest relative error {max(errors.values()):.2e} < {TOL:g}")
    return 0


def describe_axes(config: ModelConfig) -> str:
    """'' for the lecture's VAE, else e.g. '; 10 classes, mixture prior of 3, loss -L_3'."""
    parts = []
    if config.activation != "relu":
        parts.append(f"{config.activation} hidden layers")
    if config.classes:
        parts.append(f"{config.classes} classes")
    if config.prior == "mixture":
        parts.append(f"mixture prior of {config.components}")
    if config.objective == "iwae":
        parts.append(f"loss -L_{config.k}")
    return "; " + ", ".join(parts) if parts else ""
