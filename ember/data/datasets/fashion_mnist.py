"""Fashion-MNIST clothing images (Keras's ``keras.datasets.fashion_mnist``)."""

import gzip

import numpy as np

from . import _files

__all__ = ["load_data"]

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CACHE_SUBDIR = "datasets/fashion-mnist"
# Keras 3 pins no checksum for these files. These are the MD5s that Fashion-MNIST's README (and
# torchvision) publish for the official files; that Keras's copies are byte-identical could not be
# checked here (no network). Each file is also checked to be a complete gzip with the right IDX
# header and size (``_validate``).
FILES = {
    "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe", 60000),
    "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 60000),
    "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310", 10000),
    "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79", 10000),
}


def read_idx(fpath, count):
    """uint8 array of an IDX file (labels ``(count,)`` or images ``(count, 28, 28)``), gzip-compressed."""
    with gzip.open(fpath, "rb") as f:  # a truncated gzip raises EOFError; a damaged one a CRC error
        data = f.read()
    images = "images" in fpath.rsplit("/", 1)[-1]
    magic, header, shape = (2051, 16, (count, 28, 28)) if images else (2049, 8, (count,))
    got = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if got != magic or len(data) != header + int(np.prod(shape)):
        raise ValueError(f"{fpath}: not an IDX file of shape {shape} (magic {got}, {len(data)} bytes)")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def load_data():
    """Loads Fashion-MNIST: 60,000 28x28 grayscale training images of 10 clothing classes, 10,000 test.

    No offline package carries it: the four files come from the cache
    (``$EMBER_HOME/datasets/fashion-mnist``) or are downloaded from Keras's URL.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays ``(60000, 28, 28)``, ``(60000,)``,
        ``(10000, 28, 28)``, ``(10000,)``.

    Example:
        >>> from ember.datasets import fashion_mnist
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
        >>> x_train.shape
        (60000, 28, 28)
    """
    arrays = []
    for fname, (md5, count) in FILES.items():
        fpath = _files.get_file(
            fname, ORIGIN_FOLDER + fname, file_hash=md5, cache_subdir=CACHE_SUBDIR, validate=_validator(count)
        )
        arrays.append(read_idx(fpath, count))
    y_train, x_train, y_test, x_test = arrays
    return (x_train, y_train), (x_test, y_test)


def _validator(count):
    return lambda fpath: read_idx(fpath, count)
