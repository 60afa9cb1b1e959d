"""Moving data between dtypes and devices, differentiably."""

from __future__ import annotations

from ..backend.device import Device
from ..backend.device import to_device as _array_to_device
from ..engine.dtypes import is_floating, resolve_dtype
from ..engine.function import Function

__all__ = ["cast", "to_device"]


class Cast(Function):
    """y = x as ``dtype``; between float dtypes the gradient is cast back."""

    graph_saved = {}
    autocasts = False  # an explicit cast reads a variable in its own dtype (engine/autocast.py)

    def forward(self, x, dtype):
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.src) if is_floating(self.src) else None


class ToDevice(Function):
    """y = x copied to ``device``; the gradient is copied back to x's device."""

    name = "to_device"

    def forward(self, x, device):
        self.src = self.device
        return _move(x, device)

    def backward(self, g):
        return _move(g, self.src)


def _move(array, device: Device):
    moved = _array_to_device(array, device)
    return moved.copy() if moved is array else moved


def cast(x, dtype):
    """``x`` converted to ``dtype`` (a new tensor; gradients flow between float dtypes)."""
    return Cast.apply(x, dtype=resolve_dtype(dtype))


def to_device(x, device):
    """``x`` copied to ``device`` (``"cpu"``, ``"cuda:0"``); gradients flow back."""
    return ToDevice.apply(x, device=Device(device))
