"""``gluon.data.vision``: MNIST and FashionMNIST (through ``ember.datasets``) and ``transforms``.

Samples are ``(image, label)``: image uint8 (28, 28, 1) HWC as MXNet gives it, label int32.
``transforms.ToTensor`` turns HWC uint8 into CHW float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from ...ndarray import NDArray, array
from .dataset import Dataset


class _Images(Dataset):
    _loader = "mnist"

    def __init__(self, root=None, train=True, transform=None):
        import importlib

        module = getattr(importlib.import_module("ember.datasets"), self._loader)
        (x_train, y_train), (x_test, y_test) = module.load_data()
        x, y = (x_train, y_train) if train else (x_test, y_test)
        self._data = np.asarray(x, dtype=np.uint8).reshape(-1, 28, 28, 1)
        self._label = np.asarray(y, dtype=np.int32)
        self._transform = transform

    def __len__(self):
        return len(self._label)

    def __getitem__(self, idx):
        image, label = array(self._data[idx], dtype=np.uint8), self._label[idx]
        if self._transform is not None:
            return self._transform(image, label)
        return image, label


class MNIST(_Images):
    """The MNIST digits (60,000 train / 10,000 test)."""

    _loader = "mnist"


class FashionMNIST(_Images):
    """Zalando's Fashion-MNIST (60,000 train / 10,000 test)."""

    _loader = "fashion_mnist"


class transforms:  # noqa: N801 - MXNet's module name
    """``transforms.ToTensor``, ``Normalize``, ``Compose``."""

    class Compose:
        def __init__(self, fns):
            self._fns = list(fns)

        def __call__(self, x):
            for fn in self._fns:
                x = fn(x)
            return x

    class ToTensor:
        """(H, W, C) uint8 -> (C, H, W) float32 / 255 (a batch (N, H, W, C) -> (N, C, H, W))."""

        def __call__(self, x):
            a = x.asnumpy() if isinstance(x, NDArray) else np.asarray(x)
            a = np.moveaxis(a.astype(np.float32) / 255.0, -1, -3)
            return array(a)

    class Normalize:
        """(x - mean) / std per channel, channels first."""

        def __init__(self, mean=0.0, std=1.0):
            self._mean, self._std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

        def __call__(self, x):
            a = x.asnumpy() if isinstance(x, NDArray) else np.asarray(x, np.float32)
            shape = (-1,) + (1,) * (a.ndim - 1 if a.ndim == 3 else 2)
            return array((a - self._mean.reshape(shape)) / self._std.reshape(shape))
