"""Tensors made from a shape or another tensor: zeros, ones, full, arange, eye, *_like.

Float results default to ``floatx()`` (float32); ``device`` defaults to
``EMBER_DEVICE`` or cpu, and ``*_like`` functions follow their template.
"""

from __future__ import annotations

import numbers

from ..backend.config import floatx
from ..backend.device import Device, default_device
from .dtypes import resolve_dtype
from .tensor import Tensor


def _make(build, dtype, device, requires_grad):
    dev = Device(device) if device is not None else default_device()
    array = build(dev.xp, resolve_dtype(dtype) if dtype is not None else resolve_dtype(floatx()))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(shape):
    return (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)


def zeros(shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with 0."""
    return _make(lambda xp, dt: xp.zeros(_shape(shape), dtype=dt), dtype, device, requires_grad)


def ones(shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with 1."""
    return _make(lambda xp, dt: xp.ones(_shape(shape), dtype=dt), dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (float32 unless ``dtype`` is given)."""
    return _make(lambda xp, dt: xp.full(_shape(shape), fill_value, dtype=dt), dtype, device, requires_grad)


def eye(N, M=None, k: int = 0, dtype=None, device=None, requires_grad: bool = False) -> Tensor:  # noqa: N803
    """A 2-D ``(N, M)`` tensor with ones on diagonal ``k``."""
    return _make(lambda xp, dt: xp.eye(N, M, k, dtype=dt), dtype, device, requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange``.

    Integer arguments give int64 (NumPy's choice); any float argument gives float32.
    """
    if dtype is None:
        all_int = all(isinstance(v, numbers.Integral) for v in (start, stop, step) if v is not None)
        dtype = "int64" if all_int else floatx()
    args = (0, start) if stop is None else (start, stop)
    return _make(lambda xp, dt: xp.arange(*args, step, dtype=dt), dtype, device, requires_grad)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, device=None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, as ``numpy.linspace``."""
    return _make(lambda xp, dt: xp.linspace(start, stop, num, endpoint=endpoint, dtype=dt), dtype, device, False)


def _like(x, dtype, device):
    return (dtype if dtype is not None else x.dtype), (device if device is not None else x.device)


def zeros_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``x``."""
    return zeros(x.shape, *_like(x, dtype, device), requires_grad=requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``x``."""
    return ones(x.shape, *_like(x, dtype, device), requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and, unless given, dtype and device) of ``x``."""
    return full(x.shape, fill_value, *_like(x, dtype, device), requires_grad=requires_grad)
