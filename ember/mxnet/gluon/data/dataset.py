"""Gluon's datasets: indexable collections of samples, with ``transform`` / ``transform_first``."""

from __future__ import annotations

import numpy as np


class Dataset:
    """Anything with ``__getitem__`` and ``__len__``."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        """A dataset of ``fn(*sample)``."""
        return _Transformed(self, fn)

    def transform_first(self, fn, lazy=True):
        """A dataset whose samples' first element goes through ``fn`` (the image, not the label)."""

        def first(*sample):
            return (fn(sample[0]),) + tuple(sample[1:]) if len(sample) > 1 else fn(sample[0])

        return _Transformed(self, first)


class _Transformed(Dataset):
    def __init__(self, data, fn):
        self._data, self._fn = data, fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        sample = self._data[idx]
        return self._fn(*sample) if isinstance(sample, tuple) else self._fn(sample)


class SimpleDataset(Dataset):
    """A dataset over a list or array."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class ArrayDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` from arrays (NumPy, NDArray or lists) of equal length."""

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset: needs at least one array")
        self._length = len(args[0])
        for i, a in enumerate(args):
            if len(a) != self._length:
                raise ValueError(f"ArrayDataset: array {i} has length {len(a)}, array 0 has {self._length}")
        self._data = [
            a.asnumpy() if hasattr(a, "asnumpy") else (np.asarray(a) if isinstance(a, list) else a) for a in args
        ]

    def __len__(self):
        return self._length

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(a[idx] for a in self._data)
