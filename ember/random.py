"""``ember.random``: seeded random tensors with ``keras.random``'s names and arguments.

Every function takes ``seed=``: None (the process-wide stream that
``ember.random.seed(n)`` / ``keras.utils.set_random_seed`` reset), an int (a
fresh stream from that seed: the same call gives the same numbers), a
:class:`SeedGenerator` (its own stream, advancing with each draw, as in Keras),
or a pair of ints (Keras's stateless seed tensors, folded into one int).

The numbers are Ember's (NumPy's generators), not the ones Keras or JAX would
draw from the same seed; their distributions are Keras's.
"""

from __future__ import annotations

import numbers

import numpy

from .backend.config import floatx
from .backend.device import CPU
from .engine import random as _engine
from .engine.random import Generator, default_generator, get_state, permutation, seed, set_state
from .engine.tensor import Tensor, tensor

__all__ = [
    "Generator",
    "SeedGenerator",
    "default_generator",
    "get_state",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "permutation",
    "randint",
    "seed",
    "set_state",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator(Generator):
    """A stream of random numbers for ``seed=`` arguments (``keras.random.SeedGenerator``).

    Args:
        seed: an int for a reproducible stream; None draws entropy from the OS.
        name: kept for Keras compatibility (and ``get_config``).

    Each draw made with this generator advances it, so two calls with the same
    ``SeedGenerator`` give different numbers and a new generator with the same
    seed repeats them.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        backend = kwargs.pop("backend", None)
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected keyword arguments {sorted(kwargs)}")
        if backend not in (None, "ember"):
            raise ValueError(f"SeedGenerator: backend must be None on Ember, got {backend!r}")
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise TypeError(f"SeedGenerator: seed must be an int or None, got {type(seed).__name__}")
        super().__init__(None if seed is None else int(seed))
        self.name = name or "seed_generator"

    @property
    def state(self):
        """The stream's state (a dict; see ``Generator.get_state``) where Ember can report it."""
        getter = getattr(self, "get_state", None)
        return getter() if getter is not None else {"initial_seed": self.initial_seed}

    def next(self, ordered=True):
        """A fresh int seed drawn from this stream (a stateless seed for one call)."""
        return int(_engine._rng(self, _device()).integers(0, 2**31 - 1).item())

    def get_config(self):
        return {"seed": self.initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} seed={self.initial_seed}>"


def _device():
    from .backend.device import default_device

    return default_device()


def _seed(value):
    """A ``seed=`` argument as the engine takes it: None, an int or a Generator."""
    if value is None or isinstance(value, Generator):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    arr = value.numpy() if isinstance(value, Tensor) else value
    try:
        arr = numpy.asarray(arr)
    except Exception:
        arr = None
    if arr is not None and arr.dtype.kind in "iu" and arr.size in (1, 2):
        # Keras's stateless seeds are a pair of ints: fold them into one
        words = [int(v) & 0xFFFFFFFF for v in arr.reshape(-1)]
        return words[0] if len(words) == 1 else (words[0] << 32) | words[1]
    raise TypeError(
        f"seed: expected None, an int, a SeedGenerator or a pair of ints, got {type(value).__name__} {value!r}"
    )


def _rng(seed_value, device=None):
    return _engine._rng(_seed(seed_value), device or _device())


def _shape(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _float_dtype(op, dtype):
    dt = numpy.dtype(str(dtype) if dtype is not None else floatx())
    if dt.kind != "f":
        raise ValueError(f"{op}: dtype must be a float dtype, got {dt}")
    return dt


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from N(mean, stddev**2) of ``shape``."""
    return _engine.normal(_shape(shape), mean, stddev, dtype=str(_float_dtype("normal", dtype)), seed=_seed(seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from U[minval, maxval) of ``shape`` (float dtypes; see ``randint`` for integers)."""
    dt = _float_dtype("uniform", dtype)
    return _engine.uniform(_shape(shape), minval, maxval, dtype=str(dt), seed=_seed(seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev**2) samples redrawn until within two standard deviations of the mean."""
    dt = _float_dtype("truncated_normal", dtype)
    return _engine.truncated_normal(_shape(shape), mean, stddev, dtype=str(dt), seed=_seed(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``."""
    if numpy.dtype(str(dtype)).kind not in "iu":
        raise ValueError(f"randint: dtype must be an integer dtype, got {dtype}")
    return _engine.randint(_shape(shape), minval, maxval, dtype=str(numpy.dtype(str(dtype))), seed=_seed(seed))


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries along ``axis`` in a random order (gradients flow)."""
    return _engine.shuffle(x, axis=axis, seed=_seed(seed))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with each entry zeroed with probability ``rate`` and the rest scaled by 1 / (1 - rate)."""
    from .ops import dropout as _dropout

    return _dropout(inputs, rate, training=True, noise_shape=noise_shape, seed=_seed(seed))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row of ``logits`` (batch, classes) -> (batch, num_samples)."""
    lg = numpy.asarray(logits.numpy() if isinstance(logits, Tensor) else logits, dtype=numpy.float64)
    if lg.ndim != 2:
        raise ValueError(f"categorical: logits must be 2-D (batch, num_classes), got shape {lg.shape}")
    rng = _rng(seed, CPU)  # computed with NumPy on the host; the result is copied to the default device
    shifted = lg - lg.max(axis=1, keepdims=True)
    p = numpy.exp(shifted)
    cdf = numpy.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((lg.shape[0], int(num_samples)))
    out = numpy.minimum((u[:, :, None] > cdf[:, None, :]).sum(axis=-1), lg.shape[1] - 1)
    return tensor(out.astype(numpy.dtype(str(dtype))))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from the Gamma distribution with concentration ``alpha`` and scale 1."""
    dt = _float_dtype("gamma", dtype)
    a = numpy.asarray(alpha.numpy() if isinstance(alpha, Tensor) else alpha, dtype=numpy.float64)
    return tensor(_rng(seed, CPU).standard_gamma(numpy.broadcast_to(a, _shape(shape))).astype(dt))


def beta(shape, alpha, beta, dtype=None, seed=None):  # noqa: A002 - Keras's argument names
    """Samples from the Beta(``alpha``, ``beta``) distribution."""
    dt = _float_dtype("beta", dtype)
    a = numpy.asarray(alpha.numpy() if isinstance(alpha, Tensor) else alpha, dtype=numpy.float64)
    b = numpy.asarray(beta.numpy() if isinstance(beta, Tensor) else beta, dtype=numpy.float64)
    shape = _shape(shape)
    return tensor(_rng(seed, CPU).beta(numpy.broadcast_to(a, shape), numpy.broadcast_to(b, shape)).astype(dt))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples from the Binomial(``counts``, ``probabilities``) distribution (as floats, as Keras gives them)."""
    dt = _float_dtype("binomial", dtype)
    n = numpy.asarray(counts.numpy() if isinstance(counts, Tensor) else counts)
    p = numpy.asarray(probabilities.numpy() if isinstance(probabilities, Tensor) else probabilities, numpy.float64)
    shape = _shape(shape)
    draws = _rng(seed, CPU).binomial(numpy.broadcast_to(n, shape).astype(numpy.int64), numpy.broadcast_to(p, shape))
    return tensor(draws.astype(dt))


def _draw_uniform(shape, low, high, seed):
    """A NumPy array of U[low, high) samples (for ops that draw internally, such as elastic_transform)."""
    return _rng(seed, CPU).uniform(low, high, size=_shape(shape))
