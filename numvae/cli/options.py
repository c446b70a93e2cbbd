"""Options shared by several subcommands, their validation, and loading a run's data.

Every argument is checked when the command line is read, before any data is loaded or
anything is written (issue 20), in two places:

- single values, by the argparse ``type=`` functions below (finite numbers, positive
  integers, width lists without empty fields, folders that exist, output names): argparse
  reports a refusal as ``numvae CMD: error: argument --x: expected ..., got ...``;
- rules between options, or between an option and a run folder (ordered ranges, a label
  within the run's classes, --k only with --objective iwae), by each subcommand's
  ``check(args)``, which ``numvae.cli.main`` calls right after parsing. It raises
  ``UsageError``, whose message has the same form.

Either way the user sees one line naming the option, what was expected and what was
given, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..data import DATASET_NAMES, load_dataset, pad_dataset
from ..data.locate import ENV_VAR
from ..data.registry import REGISTRY
from ..model_config import ACTIVATIONS, ARCHITECTURES, LIKELIHOODS, OBJECTIVES, PRIORS, VARIANCE_HEADS
from ..plumbing.runs import CHECKPOINT, MODELS, load_run


# ----- the form of every refusal -----------------------------------------------------------
class UsageError(ValueError):
    """A bad argument: ``{what}: expected {expected}, got {given}`` (``what`` e.g. 'argument --k')."""

    def __init__(self, what: str, expected: str, given: str):
        super().__init__(f"{what}: expected {expected}, got {given}")


class Parser(argparse.ArgumentParser):
    """argparse with its refusals on one line: ``numvae train: error: argument --x: ...``.

    (argparse's own error prints the usage first, which for ``train`` is a dozen lines
    above the one that says what is wrong.) Sub-parsers inherit the class.
    """

    def error(self, message: str):
        # a refusal of one option says all; a missing or unknown argument points to the help
        hint = "" if message.startswith("argument --") else f" (see {self.prog} --help)"
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def _refuse(expected: str, text: str):
    raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")


# ----- single values: argparse type= functions -------------------------------------------------
def _int_at_least(text: str, lowest: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        _refuse(expected, text)
    if value < lowest:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def nonnegative_int(text: str) -> int:
    """A whole number >= 0 (a Generator seed, epochs of warm-up)."""
    return _int_at_least(text, 0, "a whole number >= 0")


def grid_size(text: str) -> int:
    return _int_at_least(text, 2, "an integer >= 2")


def class_label(text: str) -> int:
    """A class label, >= 0; whether the run has that class is checked against the run."""
    return _int_at_least(text, 0, "a class label, a whole number >= 0")


def _float(text: str, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        _refuse(expected, text)
    if not math.isfinite(value):
        _refuse(expected, text)
    return value


def finite_float(text: str) -> float:
    return _float(text, "a finite number")


def positive_float(text: str) -> float:
    value = _float(text, "a positive finite number")
    if not value > 0:
        _refuse("a positive finite number", text)
    return value


def nonnegative_float(text: str) -> float:
    value = _float(text, "a finite number >= 0")
    if value < 0:
        _refuse("a finite number >= 0", text)
    return value


def step_size(text: str) -> float:
    """A finite-difference step h, 0 < h < 1."""
    value = _float(text, "a step h with 0 < h < 1")
    if not 0 < value < 1:
        _refuse("a step h with 0 < h < 1", text)
    return value


HIDDEN_EXPECTED = "comma-separated positive integers such as 512,256 (or 'none' for no hidden layer)"


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512,256' -> (512, 256); 'none' -> () (no hidden layer). Empty fields are refused:
    '128,,64' is a typo, not (128, 64)."""
    if text.strip().lower() == "none":
        return ()
    widths = []
    for field in text.split(","):
        try:
            width = int(field)
        except ValueError:
            _refuse(HIDDEN_EXPECTED, text)
        if width < 1:
            _refuse(HIDDEN_EXPECTED, text)
        widths.append(width)
    return tuple(widths)


CONV_CHANNELS_EXPECTED = "two comma-separated positive integers C1,C2 such as 32,64"


def parse_conv_channels(text: str) -> tuple[int, int]:
    """'32,64' -> (32, 64): the channels of the two convolutions (--arch conv)."""
    fields = text.split(",")
    if len(fields) != 2:
        _refuse(CONV_CHANNELS_EXPECTED, text)
    channels = []
    for field in fields:
        try:
            value = int(field)
        except ValueError:
            _refuse(CONV_CHANNELS_EXPECTED, text)
        if value < 1:
            _refuse(CONV_CHANNELS_EXPECTED, text)
        channels.append(value)
    return channels[0], channels[1]


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def existing_folder(text: str) -> Path:
    """A folder that exists and can be read (--data-dir)."""
    path = Path(text).expanduser()
    if not path.exists():
        _refuse_path("an existing folder", text, "which does not exist")
    if not path.is_dir():
        _refuse_path("an existing folder", text, "which is a file")
    if not os.access(path, os.R_OK | os.X_OK):
        _refuse_path("an existing folder", text, "which cannot be read (permissions)")
    return path


def _refuse_path(expected: str, text: str, why: str):
    raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}, {why}")


def output_folder(text: str) -> Path:
    """A folder to write into: absent (it will be made) or a folder, under a writable one."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        _refuse_path("a folder to write into", text, "which is a file")
    _check_writable_parent(path, "a folder to write into", text)
    return path


def output_file(suffix: str):
    """A type function for a file to write with ``suffix`` (e.g. '.png'): not a folder."""
    expected = f"a {suffix} file to write"

    def check(text: str) -> Path:
        path = Path(text).expanduser()
        if path.suffix.lower() != suffix:
            _refuse_path(expected, text, f"which does not end in {suffix}")
        if path.is_dir():
            _refuse_path(expected, text, "which is a folder")
        _check_writable_parent(path.parent, expected, text)
        return path

    check.__name__ = f"{suffix.lstrip('.')}_file"
    return check


def _check_writable_parent(path: Path, expected: str, text: str) -> None:
    existing = _nearest_existing(path)
    if not existing.is_dir():
        _refuse_path(expected, text, f"inside {str(existing)!r}, which is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        _refuse_path(expected, text, f"inside {str(existing)!r}, which cannot be written (permissions)")


# ----- what a data set is, known without loading it --------------------------------------------
@dataclass(frozen=True)
class DataFacts:
    """What the command line needs to know about a data set before loading it."""

    image_shape: tuple[int, int]
    classes: int  # 0 for a set without labels
    test_size: int
    binary: bool  # stored binary already (binarized-mnist)


# scikit-learn's digits: 8x8 images, labels 0-9, the 297 test images of numvae.data.digits
DIGITS = DataFacts(image_shape=(8, 8), classes=10, test_size=297, binary=False)


def data_facts(name: str) -> DataFacts:
    if name == "digits":
        return DIGITS
    source = REGISTRY[name]
    return DataFacts(image_shape=tuple(source.image_shape), classes=source.n_classes or 0,
                     test_size=source.sizes["test"], binary=source.format == "amat")


LABELLED = tuple(name for name in DATASET_NAMES if data_facts(name).classes)


# ----- the convolutional network's input: images whose sides are multiples of 4 ---------------
# The lecture zero-pads MNIST's 28 x 28 to 32 x 32 before its convolutional VAE; every 28 x 28
# set (mnist, fashion-mnist, binarized-mnist) is padded so for --arch conv. Other sizes are used
# as they are (the digits' 8 x 8 already halves twice: 8 -> 4 -> 2), and must be multiples of 4.
# (28 x 28 would halve to 7 x 7 as well; the padding follows the lecture, whose decoder ends at
# 32 x 32, the size that goes on halving.)
PAD_TO = {(28, 28): (32, 32)}
CONV_CHANNELS = (32, 64)  # --arch conv without --conv-channels: the lecture's
CONV_MULTIPLE = 4  # two stride-2 convolutions halve each side twice


def network_input(dataset: str, arch: str) -> tuple[tuple[int, int], list[list[int]] | None]:
    """(the image shape the network reads, the zero padding that makes it) for ``dataset``.

    The padding is [[top, bottom], [left, right]] in pixels (centred, as
    ``numvae.data.pad_images`` places the image), None when the images are used as they
    are (always for --arch mlp). UsageError when --arch conv cannot read the images.
    """
    shape = tuple(data_facts(dataset).image_shape)
    if arch != "conv":
        return shape, None
    target = PAD_TO.get(shape, shape)
    if target[0] % CONV_MULTIPLE or target[1] % CONV_MULTIPLE:
        raise UsageError("argument --arch conv", f"images whose sides are multiples of {CONV_MULTIPLE} "
                         "(its two stride-2 convolutions halve each side twice; 28x28 sets are padded "
                         "to 32x32)", f"--dataset {dataset}, whose images are {shape[0]}x{shape[1]}")
    if target == shape:
        return shape, None
    return target, network_input_padding(shape, target)


def network_input_padding(shape, target) -> list[list[int]]:
    """[[top, bottom], [left, right]] that centre a ``shape`` image in ``target`` (as pad_images)."""
    rows, cols = target[0] - shape[0], target[1] - shape[1]
    return [[rows // 2, rows - rows // 2], [cols // 2, cols - cols // 2]]


def padded_from(config: dict) -> tuple[int, int] | None:
    """The data set's own image shape when the run pads its images, else None."""
    padding = config.get("padding")
    if not padding:
        return None
    (top, bottom), (left, right) = padding
    height, width = config["image_shape"]
    return height - top - bottom, width - left - right


def pad_as_run(data, config: dict):
    """``data`` zero-padded as the run's config says (``padding``), or as it is.

    A run records the padding it trained with, so evaluate, sample, plot and explore feed
    the network the same 32 x 32 images; a data set of another size is refused.
    """
    source = padded_from(config)
    if source is None:
        return data
    centred = network_input_padding(source, tuple(config["image_shape"]))
    if tuple(data.image_shape) != source or centred != config["padding"]:
        raise ValueError(f"the run pads {source[0]}x{source[1]} images to {config['image_shape'][0]}x"
                         f"{config['image_shape'][1]} centred (padding {centred}), but {data.name} has "
                         f"{data.image_shape[0]}x{data.image_shape[1]} images and the config says padding "
                         f"{config['padding']}")
    return pad_dataset(data, tuple(config["image_shape"]))


# ----- options shared by several subcommands ----------------------------------------------------
def add_model_options(p: argparse.ArgumentParser, defaults: dict, help_default,
                      conv_channels: tuple[int, int] = CONV_CHANNELS, conv_note: str = "") -> None:
    """--model, --latent, --hidden, --likelihood, --variance-head, --activation, --arch,
    --conv-channels, --prior, --components, --objective, --k.

    ``defaults`` become argparse defaults, unless ``help_default`` is given: then the
    defaults are None (so a command can tell which options were typed) and only shown.
    --components, --k and --conv-channels always default to None: ``model_settings``
    resolves them (--conv-channels to ``conv_channels``, whose help ``conv_note`` explains).
    """
    def default(name):
        return None if help_default else defaults[name]

    def shown(name):
        value = defaults[name]
        return ",".join(map(str, value)) if name == "hidden" else value

    p.add_argument("--model", choices=tuple(MODELS), default=default("model"),
                   help="vae, ae (plain autoencoder) or cvae (conditional VAE: the label one-hot "
                        f"on the encoder's and decoder's inputs; needs labels) (default: {shown('model')})")
    p.add_argument("--latent", type=positive_int, default=default("latent"),
                   help=f"latent dimensions K (default: {shown('latent')})")
    p.add_argument("--hidden", type=parse_hidden, default=default("hidden"),
                   help=f"hidden layer widths, encoder order, e.g. 512,256 (default: {shown('hidden')})")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default=default("likelihood"),
                   help=f"p(x|z): bernoulli = cross-entropy, gaussian = squared error "
                        f"(default: {shown('likelihood')})")
    p.add_argument("--variance-head", choices=VARIANCE_HEADS, default=default("variance_head"),
                   help="encoder's variance output: logvar, the seed's sigma = ReLU(h) + 0.05, or "
                        "CS236's variance softplus(h) + 1e-8 "
                        f"(default: {shown('variance_head')})")
    p.add_argument("--activation", choices=ACTIVATIONS, default=default("activation"),
                   help=f"of the hidden layers (default: {shown('activation')})")
    p.add_argument("--arch", choices=ARCHITECTURES, default=default("arch"),
                   help="mlp, or conv: the lecture's convolutional VAE, two 3x3 stride-2 convolutions "
                        "(--conv-channels) before the --hidden layers and two transposed ones after "
                        "them. Its images need sides that are multiples of 4: the 28x28 sets (mnist, "
                        "fashion-mnist, binarized-mnist) are zero-padded to 32x32 as the lecture does; "
                        "the 8x8 digits are used as they are, unpadded "
                        f"(default: {shown('arch')})")
    p.add_argument("--conv-channels", type=parse_conv_channels, default=None, metavar="C1,C2",
                   help="channels of the two convolutions of --arch conv (the decoder's transposed ones "
                        f"mirror them) (default: {','.join(map(str, conv_channels))}{conv_note})")
    p.add_argument("--prior", choices=PRIORS, default=default("prior"),
                   help="p(z): standard = N(0, I), mixture = a learned mixture of Gaussians "
                        f"(default: {shown('prior')})")
    p.add_argument("--components", type=positive_int, default=None,
                   help=f"Gaussians in --prior mixture (default: {MIXTURE_COMPONENTS})")
    p.add_argument("--objective", choices=OBJECTIVES, default=default("objective"),
                   help="elbo, or iwae: the importance-weighted bound L_k with --k draws per image "
                        f"(default: {shown('objective')})")
    p.add_argument("--k", type=positive_int, default=None,
                   help=f"draws per image of --objective iwae (default: {IWAE_K})")


MIXTURE_COMPONENTS = 10  # --prior mixture without --components
IWAE_K = 5  # --objective iwae without --k (Burda et al. report k = 5 and 50)


def model_settings(settings: dict, dataset: str, conv_channels: tuple[int, int] = CONV_CHANNELS) -> dict:
    """The model's settings with --components, --k and --conv-channels resolved, and the
    network's input (``image_shape`` and ``padding``, see ``network_input``), or
    UsageError for a bad combination. ``settings`` maps the option names (model, prior,
    ...) to values, None for one not given; ``dataset`` is the data set's name;
    ``conv_channels`` is --arch conv's default."""
    s = dict(settings)
    arch = s.get("arch") or "mlp"
    if s.get("conv_channels") is not None and arch != "conv":
        raise UsageError("argument --conv-channels", "--arch conv with it (the convolutions' channels)",
                         f"--arch {arch}")
    s["arch"] = arch
    if s.get("conv_channels") is None:
        s["conv_channels"] = tuple(conv_channels)
    s["image_shape"], s["padding"] = network_input(dataset, arch)
    model = s["model"]
    if model == "cvae" and not data_facts(dataset).classes:
        raise UsageError("argument --model cvae", "a data set with labels (" + ", ".join(LABELLED) + ")",
                         f"--dataset {dataset}, which has none")
    if model == "ae":
        for name, plain, why in (("prior", "standard", "no prior to learn"), ("objective", "elbo", "no ELBO"),
                                 ("variance_head", "logvar", "no variance head")):
            if s.get(name) not in (None, plain):
                raise UsageError(f"argument {option_name(name)}",
                                 f"{plain} with --model ae (a plain autoencoder has {why})", repr(s[name]))
    prior, objective = s.get("prior") or "standard", s.get("objective") or "elbo"
    if s.get("components") is not None and prior != "mixture":
        raise UsageError("argument --components",
                         "--prior mixture with it (the mixture's number of Gaussians)", f"--prior {prior}")
    if s.get("k") is not None and objective != "iwae":
        raise UsageError("argument --k", "--objective iwae with it (L_k's draws per image)",
                         f"--objective {objective}")
    if s.get("components") is None:
        s["components"] = MIXTURE_COMPONENTS if prior == "mixture" else 0
    if s.get("k") is None:
        s["k"] = IWAE_K if objective == "iwae" else 1
    return s


def check_kl_options(beta, kl_warmup, model: str, objective: str) -> None:
    """--beta and --kl-warmup weight the ELBO's KL: refused where there is none."""
    for name, value, neutral in (("beta", beta, 1.0), ("kl_warmup", kl_warmup, 0)):
        if value is None or value == neutral:
            continue
        if model == "ae":
            raise UsageError(f"argument {option_name(name)}",
                             f"{neutral:g} with --model ae (the plain autoencoder has no KL term)",
                             f"{value:g}")
        if objective == "iwae":
            raise UsageError(f"argument {option_name(name)}",
                             f"{neutral:g} with --objective iwae (L_k has no separate KL term to weight)",
                             f"{value:g}")


def option_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def add_data_dir_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=existing_folder, default=None, metavar="DIR",
                   help=f"folder holding the data set files (default: {ENV_VAR}, then the cache)")


def add_figure_options(p: argparse.ArgumentParser) -> None:
    """The manifold grid's size and ranges (2-D latent only)."""
    p.add_argument("--grid-size", type=grid_size, default=21,
                   help="tiles per side of the manifold grid (default: 21)")
    p.add_argument("--z1-range", type=finite_float, nargs=2, default=(-10.0, 5.0), metavar=("LOW", "HIGH"),
                   help="z1 range of the manifold grid, LOW < HIGH (default: -10 5, the seed's)")
    p.add_argument("--z2-range", type=finite_float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"),
                   help="z2 range of the manifold grid, LOW < HIGH (default: -5 5, the seed's)")


def check_figure_options(args) -> None:
    for name in ("z1_range", "z2_range"):
        low, high = getattr(args, name)
        if not low < high:
            raise UsageError(f"argument {option_name(name)}", "LOW HIGH with LOW < HIGH",
                             f"{low:g} {high:g}")


def check_data_env() -> None:
    """NUMVAE_DATA_DIR, when set, must be an existing folder (for every data set)."""
    value = os.environ.get(ENV_VAR)
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            why = "which is a file" if path.exists() else "which does not exist"
            raise UsageError(f"environment variable {ENV_VAR}", "an existing folder", f"{value!r}, {why}")


def run_argument(option: str, folder: Path):
    """(model, checkpoint) of the run folder given as ``option``, or UsageError saying why not."""
    expected = "a run folder written by 'numvae train'"
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"argument {option}", expected, f"{str(folder)!r}, which does not exist")
    if not folder.is_dir():
        hint = (f" (pass the folder that holds it, {str(folder.parent)!r})" if folder.name == CHECKPOINT
                else "")
        raise UsageError(f"argument {option}", expected, f"{str(folder)!r}, which is a file{hint}")
    if not (folder / CHECKPOINT).exists():
        raise UsageError(f"argument {option}", expected, f"{str(folder)!r}, which holds no {CHECKPOINT}")
    try:
        return load_run(folder)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"argument {option}", expected, f"{str(folder)!r}: {err}") from None


def check_run_data(config: dict, data_dir: Path | None) -> None:
    """The run's stored data folder, when it will be used (no --data-dir), must still exist."""
    stored = config.get("data_dir")
    if data_dir is None and stored is not None and not Path(stored).is_dir():
        raise UsageError("the run's data folder (data_dir in its config.json)",
                         "an existing folder; pass --data-dir to say where the data set is now",
                         f"{stored!r}, which does not exist")


def is_conditional(config: dict) -> bool:
    return int(config.get("classes", 0) or 0) > 0


def load_split(config: dict, split: str, data_dir: Path | None):
    """The run's data set split, binarized and padded as the run's were (the stored data_dir
    as fallback)."""
    binarize = None if config["binarize"] == "none" else config["binarize"]
    folder = data_dir if data_dir is not None else config.get("data_dir")
    return pad_as_run(load_dataset(config["dataset"], split, data_dir=folder, binarize=binarize), config)


def progress_bar(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()
