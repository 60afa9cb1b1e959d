"""CIFAR-10 small images, 10 classes (Keras's ``keras.datasets.cifar10``)."""

from . import _cifar, _files

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # sha256 Keras 3 pins
FNAME = "cifar-10-python.tar.gz"


def load_data():
    """Loads CIFAR-10: 50,000 32x32 colour training images and 10,000 test images, 10 classes.

    No offline package carries it: the archive comes from the cache (``$EMBER_HOME/datasets``) or is
    downloaded from the CIFAR home page and checked against Keras's sha256. The converted arrays
    are cached (keyed by that hash), so later calls skip decompression.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 x of shape ``(n, 32, 32, 3)``
        (channels last, Keras's default), uint8 y of shape ``(n, 1)``.

    Example:
        >>> from ember.datasets import cifar10
        >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()
        >>> x_train.shape, y_train.shape
        ((50000, 32, 32, 3), (50000, 1))
    """
    fpath = _files.get_file(FNAME, ORIGIN, file_hash=FILE_HASH)

    def build():
        prefix = "cifar-10-batches-py/"
        x_train, y_train = _cifar.read_batches(fpath, [f"{prefix}data_batch_{i}" for i in range(1, 6)], "labels")
        x_test, y_test = _cifar.read_batches(fpath, [f"{prefix}test_batch"], "labels")
        return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}

    a = _files.processed_cache("cifar10", FILE_HASH, build)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])
