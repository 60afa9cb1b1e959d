"""California housing price regression (Keras's ``keras.datasets.california_housing``)."""

import numpy as np

from . import _files

__all__ = ["load_data"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"  # sha256 Keras 3 pins


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California housing dataset: 20,640 block groups of the 1990 US census, 8 features each.

    Features: median income, house age, average rooms, average bedrooms, population, average
    occupancy, latitude, longitude; the target is the median house value in dollars. No offline
    package carries Keras's file: it comes from the cache (``$EMBER_HOME/datasets``) or is downloaded
    from Keras's URL and checked against Keras's sha256.

    Args:
        version: ``"large"`` (all 20,640 samples) or ``"small"`` (the first 600, Keras's stand-in for
            ``boston_housing``).
        path: file name of the cached ``california_housing.npz`` (relative to the cache folder).
        test_split: fraction of the samples kept for the test set, in [0, 1).
        seed: shuffles the samples before the split (NumPy ``RandomState``, as Keras).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x of shape ``(n, 8)``, y of shape ``(n,)``.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"california_housing.load_data: test_split must be in [0, 1), got {test_split}")
    if version not in ("small", "large"):
        raise ValueError(f"california_housing.load_data: version must be 'small' or 'large', got {version!r}")
    fpath = _files.get_file(path, ORIGIN, file_hash=FILE_HASH)
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
