"""Data sets: the embedded digits here; MNIST and friends in ``numvae.data.load_dataset``."""

from .dataset import Dataset, load_dataset
from .digits import load_digits

__all__ = ["Dataset", "load_dataset", "load_digits"]
