"""CIFAR-100 small images, 100 fine / 20 coarse classes (Keras's ``keras.datasets.cifar100``)."""

from . import _cifar, _files

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"  # sha256 Keras 3 pins
FNAME = "cifar-100-python.tar.gz"


def load_data(label_mode="fine"):
    """Loads CIFAR-100: 50,000 32x32 colour training images and 10,000 test images.

    No offline package carries it: the archive comes from the cache (``$EMBER_HOME/datasets``) or is
    downloaded from the CIFAR home page and checked against Keras's sha256; the converted arrays
    are cached per ``label_mode``.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 x of shape ``(n, 32, 32, 3)``
        (channels last), uint8 y of shape ``(n, 1)``.

    Example:
        >>> from ember.datasets import cifar100
        >>> (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode="coarse")
        >>> int(y_train.max())
        19
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'cifar100.load_data: label_mode must be "fine" or "coarse", got {label_mode!r}')
    fpath = _files.get_file(FNAME, ORIGIN, file_hash=FILE_HASH)
    key = f"{label_mode}_labels"

    def build():
        x_train, y_train = _cifar.read_batches(fpath, ["cifar-100-python/train"], key)
        x_test, y_test = _cifar.read_batches(fpath, ["cifar-100-python/test"], key)
        return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}

    a = _files.processed_cache(f"cifar100-{label_mode}", FILE_HASH, build)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])
