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

    def get_state(self) -> dict:
        """Where the stream stands: enough for :meth:`set_state` to make the same draws again.

        Returns:
            a JSON-serializable dict ``{"initial_seed": int | None, "streams": {device: state}}``, one
            bit-generator state (NumPy's ``bit_generator.state``) per device stream created so far. A
            stream not created yet is recreated from ``initial_seed`` on its first use, as before.
        """
        streams = {}
        for device, rng in self._per_device.items():
            bit_generator = getattr(rng, "bit_generator", None)
            if bit_generator is None or not hasattr(bit_generator, "state"):
                raise ValueError(
                    f"Generator.get_state: the stream for device {device} ({type(rng).__name__}) does not expose "
                    "its state; only NumPy bit generators can be saved"
                )
            streams[str(device)] = _plain(bit_generator.state)
        return {"initial_seed": self.initial_seed, "streams": streams}

    def set_state(self, state: dict) -> None:
        """Put the stream back where :meth:`get_state` saw it; later draws repeat the ones made after that.

        Args:
            state: a dict from :meth:`get_state` (possibly through JSON).

        Raises:
            ValueError: ``state`` is not such a dict, or a stream's state does not fit its bit generator.
        """
        if not isinstance(state, dict) or "streams" not in state or not isinstance(state["streams"], dict):
            raise ValueError(
                "Generator.set_state: expected a dict from Generator.get_state() with 'initial_seed' and 'streams', "
                f"got {type(state).__name__}"
            )
        streams = {}
        for key, value in state["streams"].items():
            device = Device(key)
            rng = device.xp.random.default_rng()
            name = value.get("bit_generator") if isinstance(value, dict) else None
            if name != type(rng.bit_generator).__name__:
                bit_generator_class = getattr(device.xp.random, str(name), None)
                if bit_generator_class is None:
                    raise ValueError(f"Generator.set_state: unknown bit generator {name!r} for device {key}")
                rng = device.xp.random.Generator(bit_generator_class())
            try:
                rng.bit_generator.state = value
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"Generator.set_state: the state for device {key} does not fit {name}: {err}") from err
            streams[device] = rng
        self.reset(state.get("initial_seed"))
        self._per_device = streams


_default = Generator(None)


def seed(value: int) -> None:
    """Reseed the process-wide generator so later draws repeat from run to run."""
    _default.reset(int(value))


def default_generator() -> Generator:
    return _default


def get_state() -> dict:
    """The process-wide generator's state (see :meth:`Generator.get_state`): what ``seed=None`` draws come from."""
    return _default.get_state()


def set_state(state: dict) -> None:
    """Put the process-wide generator back where :func:`get_state` saw it."""
    _default.set_state(state)


def _plain(value):
    """A bit generator's state as plain Python (ints, strs, lists, dicts): JSON writes and reads it unchanged."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars (MT19937's key)
        return value.tolist()
    return value


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
        a[bad] = rng.standard_normal(bad.sum().item())
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
