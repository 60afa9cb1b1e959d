"""Seeded random numbers, on the device that will use them.

One process-wide :class:`Generator` backs every draw unless a call passes
``seed=``: an int (a fresh generator from that seed, so the same call gives the
same numbers) or a ``Generator`` (its own stream). ``seed(n)`` resets the
process-wide one, as ``keras.utils.set_random_seed`` and ``torch.manual_seed``
do. Names and arguments follow ``keras.random``.
"""

from __future__ import annotations

import numbers

from ..backend.config import floatx
from ..backend.device import Device, default_device
from .function import current_recorder
from .tensor import Tensor


class Generator:
    """A stream of random numbers: one NumPy/CuPy ``Generator`` per device, all from one seed.

    Args:
        seed: an int for a reproducible stream; ``None`` draws entropy from the OS.
    """

    def __init__(self, seed: int | None = None):
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed: expected an int or None, got {type(seed).__name__}")
        self.initial_seed = seed
        self._per_device = {}

    def for_device(self, device: Device):
        """The array-module generator for ``device``, created on first use (a tracing recorder hears of it)."""
        recorder = current_recorder()
        if recorder is not None:
            recorder.on_draw(self)
        rng = self._per_device.get(device)
        if rng is None:
            xp = device.xp
            # each device gets its own stream, derived from the one seed
            offset = 0 if device.type == "cpu" else 1000003 * (1 + (device.index or 0))
            seed = None if self.initial_seed is None else self.initial_seed + offset
            rng = xp.random.default_rng(seed)
            self._per_device[device] = rng
        return rng


_default = Generator(None)


def seed(value: int) -> None:
    """Reseed the process-wide generator so later draws repeat from run to run."""
    _default.reset(int(value))


def default_generator() -> Generator:
    return _default


def _rng(seed, device):
    if seed is None:
        return _default.for_device(device)
    if isinstance(seed, Generator):
        return seed.for_device(device)
    if isinstance(seed, numbers.Integral):
        return Generator(int(seed)).for_device(device)
    raise TypeError(f"seed: expected None, an int or an ember.random.Generator, got {type(seed).__name__}")


def note_redraw(attr: str, redraw) -> None:
    """Tell this thread's tracing recorder (if any) how the next op's ``attr`` argument was drawn.

    ``redraw(device)`` makes a fresh array exactly as the one just drawn was
    made, from the same generator (``ops.dropout``'s mask): a replayed step
    calls it where the traced step drew, so the stream advances as in eager
    steps. Any other draw makes a step untraceable.
    """
    recorder = current_recorder()
    if recorder is not None:
        recorder.on_redraw(attr, redraw)


def _setup(shape, dtype, device):
    dev = Device(device) if device is not None else default_device()
    dt = dtype if dtype is not None else floatx()
    return ((shape,) if isinstance(shape, numbers.Integral) else tuple(shape)), dt, dev


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, device=None) -> Tensor:
    """Samples from N(mean, stddev**2) of ``shape``."""
    shape, dt, dev = _setup(shape, dtype, device)
    a = _rng(seed, dev).standard_normal(shape, dtype="float32" if dt == "float32" else "float64")
    return Tensor._wrap((a * stddev + mean).astype(dt, copy=False))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None, device=None) -> Tensor:
    """Samples from U[minval, maxval) of ``shape``."""
    shape, dt, dev = _setup(shape, dtype, device)
    a = _rng(seed, dev).random(shape, dtype="float32" if dt == "float32" else "float64")
    return Tensor._wrap((a * (maxval - minval) + minval).astype(dt, copy=False))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, device=None) -> Tensor:
    """N(mean, stddev**2) samples redrawn until within two standard deviations, as Keras does."""
    shape, dt, dev = _setup(shape, dtype, device)
    rng = _rng(seed, dev)
    a = rng.standard_normal(shape)
    bad = abs(a) > 2
    while bad.any():
        a[bad] = rng.standard_normal(int(bad.sum()))
        bad = abs(a) > 2
    return Tensor._wrap((a * stddev + mean).astype(dt))


def randint(shape, minval, maxval, dtype="int32", seed=None, device=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    shape, dt, dev = _setup(shape, dtype, device)
    return Tensor._wrap(_rng(seed, dev).integers(minval, maxval, size=shape).astype(dt))


def permutation(n: int, seed=None, device=None) -> Tensor:
    """A random ordering of ``0 .. n-1`` (int64)."""
    dev = Device(device) if device is not None else default_device()
    return Tensor._wrap(_rng(seed, dev).permutation(n))


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order (a new tensor, gradients flow)."""
    from .. import ops

    x = x if isinstance(x, Tensor) else Tensor(x)
    order = _rng(seed, x.device).permutation(x.shape[axis])
    return ops.take(x, Tensor._wrap(order), axis=axis)
