"""Reading CIFAR's python-pickle batches straight from the downloaded ``.tar.gz`` (no extraction)."""

import tarfile

import numpy as np

from . import _files

__all__ = ["read_batches"]


def read_batches(archive, members, label_key):
    """(images uint8 (n, 32, 32, 3), labels uint8 (n, 1)) of ``members`` of the archive, concatenated.

    Each member is a pickled dict of ``data`` (n, 3072) uint8 rows (channel-major) and labels; it
    is read with the NumPy-only unpickler (see ``_files``), never with plain ``pickle``.
    """
    xs, ys = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for name in members:
            f = tar.extractfile(name)
            if f is None:
                raise ValueError(f"{archive}: member {name} is not a file")
            d = _files.restricted_unpickle(f, encoding="bytes")
            d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
            xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d[label_key], dtype=np.uint8))
    # Keras's channels_last layout (its default image_data_format), made contiguous.
    x = np.ascontiguousarray(np.concatenate(xs).transpose(0, 2, 3, 1))
    return x, np.concatenate(ys).reshape(-1, 1)
