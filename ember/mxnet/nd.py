"""``mx.nd``: MXNet's NDArray functions (see ndarray.py), ``nd.random``, ``nd.save`` / ``nd.load``."""

from __future__ import annotations

from . import random  # noqa: F401  (nd.random.normal, ...)
from .nd_operators import *  # noqa: F403
from .ndarray import *  # noqa: F403
from .ndarray import NDArray, _nd, array
from .ndarray_format import read_ndarray_file, write_ndarray_file


def random_normal(loc=0.0, scale=1.0, shape=None, dtype=None, ctx=None, **kwargs):
    """The old name of ``nd.random.normal``."""
    return random.normal(loc, scale, shape, dtype, ctx)


def random_uniform(low=0.0, high=1.0, shape=None, dtype=None, ctx=None, **kwargs):
    """The old name of ``nd.random.uniform``."""
    return random.uniform(low, high, shape, dtype, ctx)


def save(fname: str, data) -> None:
    """Write an NDArray, a list of them or a str-keyed dict in MXNet's binary format (loads in real MXNet)."""
    write_ndarray_file(fname, data)


def load(fname: str):
    """Read an MXNet NDArray file (from ``nd.save`` or ``.params``): a list or a dict of NDArrays."""
    data = read_ndarray_file(fname)
    if isinstance(data, dict):
        return {k: array(v, dtype=v.dtype) for k, v in data.items()}
    return [array(v, dtype=v.dtype) for v in data]


__all__ = ["NDArray", "array", "save", "load", "random", "random_normal", "random_uniform", "_nd"]
