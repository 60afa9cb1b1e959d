"""Devices: the one seam between Ember and an array library.

A :class:`Device` names where a tensor's data lives (``cpu`` or ``cuda[:N]``)
and hands out the array module that computes on it: NumPy for ``cpu``, CuPy for
``cuda``. Ops ask a tensor's device for ``xp`` instead of importing NumPy, so
the same op code runs on either backend.
"""

from __future__ import annotations

import os

import numpy

_KNOWN_TYPES = ("cpu", "cuda")


class Device:
    """Where tensor data lives and which array module computes on it.

    Args:
        spec: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``, or another ``Device``.

    Attributes:
        type: ``"cpu"`` or ``"cuda"``.
        index: the GPU ordinal for ``cuda`` (0 when not given), ``None`` on cpu.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
        name, _, index = spec.strip().lower().partition(":")
        if name not in _KNOWN_TYPES:
            raise ValueError(f"device: unknown device type {spec!r}; expected one of 'cpu', 'cuda', 'cuda:N'")
        if name == "cpu":
            if index not in ("", "0"):
                raise ValueError(f"device: 'cpu' takes no index, got {spec!r}")
            self.type, self.index = "cpu", None
        else:
            if index and not index.isdigit():
                raise ValueError(f"device: expected 'cuda:N' with an integer N, got {spec!r}")
            self.type, self.index = "cuda", int(index or 0)

    @property
    def xp(self):
        """The array module for this device: ``numpy`` or ``cupy``."""
        if self.type == "cpu":
            return numpy
        return _cupy()

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except (TypeError, ValueError):
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")


def _cupy():
    try:
        import cupy
    except ImportError as err:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "device 'cuda' needs CuPy, which is not installed; install the gpu extra "
            "(pip install 'ember[gpu]') or use device 'cpu'"
        ) from err
    return cupy


def device(spec: str | Device = "cpu") -> Device:
    """Return the :class:`Device` for ``spec`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``)."""
    return spec if isinstance(spec, Device) else Device(spec)


def default_device() -> Device:
    """The device new tensors go to: ``EMBER_DEVICE`` from the environment, else cpu."""
    return Device(os.environ.get("EMBER_DEVICE", "cpu"))


def device_of_array(array) -> Device:
    """The device an array already lives on (NumPy arrays and scalars are cpu)."""
    if type(array) is numpy.ndarray or isinstance(array, (numpy.ndarray, numpy.generic)):
        return CPU
    module = type(array).__module__
    if module.startswith("cupy"):
        return Device(f"cuda:{array.device.id}")
    return CPU
