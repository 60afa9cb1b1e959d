"""Initializers drawing from a fixed distribution: ``RandomNormal``, ``RandomUniform``, ``TruncatedNormal``.

Seeds work as ``ember.random`` seeds: ``None`` draws from the process-wide
generator (so ``ember.random.seed(n)`` or ``ember.utils.set_random_seed(n)``
makes a whole model's initialisation repeat), an int gives the same values on
every call, and an ``ember.random.Generator`` is its own stream.
"""

from __future__ import annotations

import numbers

from ..backend.config import floatx
from ..engine import random as _random
from ..engine.tensor import Tensor
from .base import Initializer, register


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


class RandomInitializer(Initializer):
    """Base of the random initializers: checks and keeps the ``seed``.

    Args:
        seed: ``None`` (the process-wide generator), an int (the same values on every call)
            or an ``ember.random.Generator``.
    """

    def __init__(self, seed=None):
        if isinstance(seed, bool) or not (seed is None or isinstance(seed, (numbers.Integral, _random.Generator))):
            raise ValueError(
                f"{type(self).__name__}: seed must be None, an int or an ember.random.Generator, got {seed!r}"
            )
        self.seed = int(seed) if isinstance(seed, numbers.Integral) else seed

    def _seed_config(self):
        if isinstance(self.seed, _random.Generator):
            return self.seed.initial_seed
        return self.seed

    def get_config(self) -> dict:
        return {"seed": self._seed_config()}


@register("normal")
class RandomNormal(RandomInitializer):
    """Samples from a normal distribution N(mean, stddev**2).

    Args:
        mean: the mean of the distribution.
        stddev: its standard deviation.
        seed: see :class:`RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given) of normal samples."""
        return _random.normal(_shape(shape), self.mean, self.stddev, dtype=dtype or floatx(), seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@register("uniform")
class RandomUniform(RandomInitializer):
    """Samples from the uniform distribution on ``[minval, maxval)``.

    Args:
        minval: the lower bound.
        maxval: the upper bound (excluded).
        seed: see :class:`RandomInitializer`.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given) of uniform samples."""
        return _random.uniform(_shape(shape), self.minval, self.maxval, dtype=dtype or floatx(), seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


@register()
class TruncatedNormal(RandomInitializer):
    """Samples from N(mean, stddev**2), redrawing those more than two standard deviations from the mean.

    The result's standard deviation is about ``0.88 * stddev``: the truncation
    removes the tails.

    Args:
        mean: the mean of the distribution before truncation.
        stddev: its standard deviation before truncation.
        seed: see :class:`RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given), every value within mean +- 2 stddev."""
        return _random.truncated_normal(_shape(shape), self.mean, self.stddev, dtype=dtype or floatx(), seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}
