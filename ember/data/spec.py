"""``TensorSpec``: the shape and dtype of one component of a dataset element (for ``from_generator``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TensorSpec"]


class TensorSpec(NamedTuple):
    """Shape and dtype of one element component; ``None`` in ``shape`` matches any size.

    Example: ``TensorSpec(shape=(None,), dtype="int32")`` is a 1-D int32 array of any length.
    """

    shape: tuple
    dtype: object = "float32"
    name: str | None = None

    def convert(self, value, where):
        """``value`` as an array of this spec's dtype; ValueError naming ``where`` if its shape does not match."""
        a = np.asarray(value, dtype=self.dtype)
        shape = tuple(self.shape)
        if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
            raise ValueError(f"{where}: expected shape {shape} (None = any), got shape {a.shape}")
        return a
