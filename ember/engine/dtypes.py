"""Dtype rules: what ``ember.tensor`` makes of Python values and arrays.

Python floats and float64 arrays become ``floatx()`` (float32) unless a dtype is
given, as Keras does; integer and bool data keep their kind. In an op, tensors of
two float dtypes meet at the wider one (Keras 3's and PyTorch's promotion; see
``engine/function.py``), while raw arrays and Python numbers stay weak constants.
"""

from __future__ import annotations

import numpy

from ..backend.config import floatx


def resolve_dtype(dtype) -> numpy.dtype | None:
    """Turn ``"float32"``, ``numpy.float32`` or an Ember/NumPy dtype into a NumPy dtype."""
    if dtype is None:
        return None
    try:
        return numpy.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype: cannot interpret {dtype!r} as a dtype") from err


def is_floating(dtype) -> bool:
    """True for float16/32/64 (the dtypes that carry gradients)."""
    return numpy.dtype(dtype).kind == "f"


def default_dtype_for(array) -> numpy.dtype:
    """The dtype ``ember.tensor`` gives data with no explicit dtype.

    float64 becomes floatx(); every other dtype (float16/32, ints, bool) is kept.
    """
    dt = array.dtype
    if dt == numpy.float64:
        return numpy.dtype(floatx())
    return dt
