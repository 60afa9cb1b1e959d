"""In-memory arrays as a dataset: the slices of each array along its first axis."""

from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from ..structure import flatten, to_default_float

__all__ = ["TensorSlicesDataset"]


class TensorSlicesDataset(Dataset):
    """Elements are ``tensors[i]`` (per component). The arrays are converted once: float64 to floatx,
    C-contiguous, read-only (so batches sliced from them are contiguous and cannot corrupt the source)."""

    _chunked = True

    def __init__(self, tensors):
        leaves, self._spec = flatten(tensors)
        if not leaves:
            raise ValueError("from_tensor_slices: expected at least one array, got an empty structure")
        arrays = []
        for a in leaves:
            a = to_default_float(a)
            if a.ndim == 0:
                raise ValueError(f"from_tensor_slices: cannot slice a scalar (shape ()); got {a!r}")
            a = np.ascontiguousarray(a).view()
            a.flags.writeable = False
            arrays.append(a)
        lengths = {a.shape[0] for a in arrays}
        if len(lengths) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"from_tensor_slices: all components must have the same first dimension, got {shapes}")
        self._arrays = arrays

    def _cardinality(self):
        return self._arrays[0].shape[0]

    def _indexed(self):
        return self._arrays, None

    def _iter(self):
        yield self._arrays
