"""Boston housing price regression (Keras's ``keras.datasets.boston_housing``)."""

import numpy as np

from . import _files

__all__ = ["load_data"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # sha256 Keras 3 pins


def split(x, y, test_split, seed, name):
    """Keras's shuffle-then-split of ``boston_housing`` (shared with ``transfusion``)."""
    if not 0 <= test_split < 1:
        raise ValueError(f"{name}.load_data: test_split must be in [0, 1), got {test_split}")
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston housing dataset: 506 samples of 13 features, target the median price in k$.

    No offline package carries this file: it comes from the cache (``$EMBER_HOME/datasets``) or is
    downloaded from Keras's URL and checked against Keras's sha256.

    Args:
        path: file name of the cached ``boston_housing.npz`` (relative to the cache folder).
        test_split: fraction of the samples kept for the test set, in [0, 1).
        seed: shuffles the samples before the split (NumPy ``RandomState``, as Keras).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 arrays, x of shape ``(n, 13)``, y ``(n,)``.

    Example:
        >>> from ember.datasets import boston_housing
        >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
        >>> x_train.shape, x_test.shape
        ((404, 13), (102, 13))
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), got {test_split}")
    fpath = _files.get_file(path, ORIGIN, file_hash=FILE_HASH)
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return split(x, y, test_split, seed, "boston_housing")
