"""Devices: the one seam between Ember and an array library.

A :class:`Device` names where a tensor's data lives (``cpu`` or ``cuda[:N]``)
and hands out the array module that computes on it: NumPy for ``cpu``, CuPy for
``cuda``, and for the test-only ``strict`` device a NumPy wrapper that refuses
implicit host conversion as CuPy does (backend/strict.py). Ops ask a tensor's
device for ``xp`` instead of importing NumPy, so the same op code runs on any
backend.

Data crosses between host and device only through the functions at the end of
this module: :func:`to_host`, :func:`to_device`, :func:`xp_of`,
:func:`is_host_array`. A backend adds its array type to them, nowhere else.
"""

from __future__ import annotations

import contextvars
import os

import numpy

_KNOWN_TYPES = ("cpu", "cuda", "strict")


class Device:
    """Where tensor data lives and which array module computes on it.

    Args:
        spec: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"strict"`` (tests only), or another ``Device``.

    Attributes:
        type: ``"cpu"``, ``"cuda"`` or ``"strict"``.
        index: the GPU ordinal for ``cuda`` (0 when not given), ``None`` on cpu and strict.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
        name, _, index = spec.strip().lower().partition(":")
        name = "cuda" if name == "gpu" else name  # Keras's name for it ("gpu:0")
        if name not in _KNOWN_TYPES:
            raise ValueError(f"device: unknown device type {spec!r}; expected one of 'cpu', 'cuda', 'cuda:N', 'strict'")
        if name in ("cpu", "strict"):
            if index not in ("", "0"):
                raise ValueError(f"device: '{name}' takes no index, got {spec!r}")
            self.type, self.index = name, None
        else:
            if index and not index.isdigit():
                raise ValueError(f"device: expected 'cuda:N' with an integer N, got {spec!r}")
            self.type, self.index = "cuda", int(index or 0)

    @property
    def xp(self):
        """The array module for this device: ``numpy``, ``cupy``, or the strict device's namespace."""
        if self.type == "cpu":
            return numpy
        if self.type == "strict":
            from .strict import xp

            return xp
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

    # ``with ember.device("cuda"):`` (Keras's ``keras.device``): new tensors, weights and slots go to this device
    def __enter__(self) -> Device:
        _scoped.set(_scoped.get() + (self,))
        return self

    def __exit__(self, *exc) -> None:
        _scoped.set(_scoped.get()[:-1])


CPU = Device("cpu")
STRICT = Device("strict")


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


# the devices of the ``with device(...)`` blocks this context is in, innermost last
_scoped = contextvars.ContextVar("ember_device_scope", default=())


def default_device() -> Device:
    """The device new tensors go to: the innermost ``with device(...)``, else ``EMBER_DEVICE``, else cpu."""
    scoped = _scoped.get()
    if scoped:
        return scoped[-1]
    return Device(os.environ.get("EMBER_DEVICE", "cpu"))


def device_of_array(array) -> Device:
    """The device an array already lives on (NumPy arrays and scalars are cpu)."""
    if type(array) is numpy.ndarray or isinstance(array, (numpy.ndarray, numpy.generic)):
        return CPU
    if getattr(type(array), "_ember_device", None) == "strict":
        return STRICT
    module = type(array).__module__
    if module.startswith("cupy"):
        return Device(f"cuda:{array.device.id}")
    return CPU


# ---- crossing between host and device: the only places data moves -------------------------------


def is_host_array(array) -> bool:
    """Whether ``array`` is host data NumPy can read without a transfer (a NumPy array or scalar, a number)."""
    return isinstance(array, (numpy.ndarray, numpy.generic, int, float, complex, bool))


def xp_of(array):
    """The array module that computes on ``array`` (``numpy`` for host data)."""
    return device_of_array(array).xp


def to_host(array) -> numpy.ndarray:
    """``array`` as a NumPy array: an explicit device-to-host copy, or ``array`` itself if it is on the host.

    Tensors are read through their data. Use this (or ``tensor.numpy()``) wherever a value must leave the
    device: a metric's ``result()``, saving, printing, predict's outputs.
    """
    data = getattr(array, "data", None) if not isinstance(array, numpy.ndarray) else None
    if data is not None and hasattr(array, "grad_fn"):  # an ember Tensor
        array = data
    if isinstance(array, numpy.ndarray):
        return array
    if isinstance(array, (numpy.generic, int, float, complex, bool)):
        return numpy.asarray(array)
    if getattr(type(array), "_ember_device", None) == "strict":
        return array.get()
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return numpy.asarray(array)


def to_device(array, device: str | Device):
    """``array`` (host or device data) on ``device``: an explicit copy across, ``array`` itself if already there."""
    device = Device(device)
    src = device_of_array(array)
    if src == device:
        return array
    if device.type == "cpu":
        return to_host(array)
    host = to_host(array) if src.type != "cpu" else array
    if device.type == "strict":
        return device.xp.array(host)
    xp = device.xp
    with xp.cuda.Device(device.index):
        return xp.asarray(host)
