"""Process-wide numeric settings, named as Keras names them.

``floatx`` is the dtype Python floats and float64 arrays become when they are
turned into tensors; ``epsilon`` is the fuzz factor losses and normalisation add
to avoid dividing by zero.
"""

from __future__ import annotations

import numpy

_FLOATX = "float32"
_EPSILON = 1e-7
_FLOAT_NAMES = ("float16", "float32", "float64")  # NumPy has no bfloat16, so neither has the engine


def floatx() -> str:
    """The default float dtype as a string (``"float32"`` unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: one of float16, float32, float64 (bfloat16 is refused: NumPy lacks it)."""
    global _FLOATX
    if str(value) == "bfloat16":
        raise ValueError(
            "set_floatx: Ember computes on NumPy, which has no bfloat16; use 'float16', 'float32' or 'float64'"
        )
    try:
        name = str(numpy.dtype(value))
    except TypeError:
        name = None
    if name not in _FLOAT_NAMES:
        raise ValueError(f"set_floatx: expected one of {_FLOAT_NAMES}, got {value!r}")
    _FLOATX = name


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (1e-7, as in Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    _EPSILON = float(value)
