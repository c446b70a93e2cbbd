"""What each real data set is made of: file names, published SHA-256 checksums, mirrors.

A download is accepted only if its SHA-256 equals the checksum published for the original
file: MNIST's as distributed at yann.lecun.com/exdb/mnist (the md5s everyone quotes),
Fashion-MNIST's as distributed by Zalando Research, binarized MNIST's as distributed by
Hugo Larochelle (the Fashion-MNIST and binarized-MNIST sha256s are the ones
tensorflow/datasets records for those URLs). A mirror is only a place to fetch the same
bytes from: the checksum, not the mirror, vouches for them.

``REGISTRY`` is a plain module-level dict, so a test (or a user behind a local mirror)
can swap an entry for one that points elsewhere, e.g. with ``dataclasses.replace``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name (on the mirrors and in a folder) and its SHA-256."""

    name: str
    sha256: str


@dataclass(frozen=True)
class Source:
    """A data set that lives in files.

    name: the name ``load_dataset`` knows it by, e.g. 'mnist'.
    folder: its sub-folder under NUMVAE_DATA_DIR and under the cache, e.g. 'mnist'.
    format: 'idx' (images + labels, MNIST style) or 'amat' (Larochelle's text format).
    files: split -> role ('images', 'labels') -> file.
    sizes: split -> number of images, checked on every load.
    mirrors: base URLs tried in order; a file's URL is base + file name.
    image_shape: (height, width) of one image.
    n_classes: labels must lie in 0 .. n_classes - 1 (None for a set without labels).
    system_folders: folders a system package installs the files into, searched after
        the cache (e.g. Debian's dataset-fashion-mnist).
    """

    name: str
    folder: str
    format: str
    files: Mapping[str, Mapping[str, RemoteFile]]
    sizes: Mapping[str, int]
    mirrors: tuple[str, ...]
    image_shape: tuple[int, int] = (28, 28)
    n_classes: int | None = 10
    system_folders: tuple[str, ...] = ()

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.files)


MNIST = Source(
    name="mnist",
    folder="mnist",
    format="idx",
    files={
        "train": {
            "images": RemoteFile("train-images-idx3-ubyte.gz",
                                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "labels": RemoteFile("train-labels-idx1-ubyte.gz",
                                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        },
        "test": {
            "images": RemoteFile("t10k-images-idx3-ubyte.gz",
                                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "labels": RemoteFile("t10k-labels-idx1-ubyte.gz",
                                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        },
    },
    sizes={"train": 60000, "test": 10000},
    # yann.lecun.com now often refuses downloads, hence last: the two copies first.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
)

FASHION_MNIST = Source(
    name="fashion-mnist",
    folder="fashion-mnist",
    format="idx",
    files={
        "train": {
            "images": RemoteFile("train-images-idx3-ubyte.gz",
                                 "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            "labels": RemoteFile("train-labels-idx1-ubyte.gz",
                                 "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        },
        "test": {
            "images": RemoteFile("t10k-images-idx3-ubyte.gz",
                                 "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            "labels": RemoteFile("t10k-labels-idx1-ubyte.gz",
                                 "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        },
    },
    sizes={"train": 60000, "test": 10000},
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    # Debian's package recompresses the files (same images, different .gz bytes), so
    # files found in folders are checked by the reader, not by these checksums.
    system_folders=("/usr/share/datasets/fashion-mnist",),
)

BINARIZED_MNIST = Source(
    name="binarized-mnist",
    folder="binarized_mnist",
    format="amat",
    files={
        "train": {"images": RemoteFile("binarized_mnist_train.amat",
                                       "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d")},
        "valid": {"images": RemoteFile("binarized_mnist_valid.amat",
                                       "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2")},
        "test": {"images": RemoteFile("binarized_mnist_test.amat",
                                      "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c")},
    },
    sizes={"train": 50000, "valid": 10000, "test": 10000},
    mirrors=("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",),
    n_classes=None,
)

REGISTRY: dict[str, Source] = {s.name: s for s in (MNIST, FASHION_MNIST, BINARIZED_MNIST)}
