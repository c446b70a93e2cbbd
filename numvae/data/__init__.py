"""Data sets: the embedded digits, MNIST, Fashion-MNIST and binarized MNIST.

``load_dataset(name, split)`` is the one entry point. Behind it, one idea per module:

    dataset          the Dataset record, binarization, load_dataset
    digits           scikit-learn's embedded 8x8 digits (offline, the default)
    mnist            MNIST and Fashion-MNIST from IDX files
    binarized_mnist  Larochelle & Murray's binarized MNIST from .amat files
    idx, amat        the two file formats, read and checked
    locate           where files come from: folder, NUMVAE_DATA_DIR, cache, download
    registry         file names, published SHA-256 checksums, mirrors
    padding          zero padding around images (MNIST 28 x 28 -> 32 x 32 for the conv VAE)
"""

from .amat import read_amat
from .dataset import Dataset, load_dataset
from .digits import load_digits
from .idx import read_idx
from .padding import pad_dataset, pad_images
from .registry import REGISTRY

DATASET_NAMES = ("digits", *REGISTRY)

__all__ = ["DATASET_NAMES", "Dataset", "load_dataset", "load_digits", "pad_dataset", "pad_images",
           "read_amat", "read_idx"]
