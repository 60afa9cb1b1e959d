"""``VarianceScaling`` and its named cases: Glorot (Xavier), He and LeCun, uniform and normal.

The variance of the samples is ``scale / n`` with ``n`` the fan-in, the fan-out
or their mean (``mode``). ``compute_fans`` reads the fans off a kernel's shape
as Keras does: a Dense kernel ``(in, out)`` has fans ``in`` and ``out``; a
convolution kernel ``(*window, in_channels, out_channels)`` multiplies both by
the window size.
"""

from __future__ import annotations

import math
import numbers

from ..backend.config import floatx
from ..engine import random as _random
from ..engine.tensor import Tensor
from .base import register
from .random import RandomInitializer, _shape

# The standard deviation of a standard normal truncated to [-2, 2]: dividing by it
# gives truncated samples the intended variance.
_TRUNCATED_STDDEV = 0.87962566103423978

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight of ``shape``.

    Args:
        shape: the weight's shape. Rank 0: (1, 1); rank 1: (n, n); rank 2: (rows, cols);
            rank >= 3 (a convolution kernel, channels last): the last two axes times the
            product of the others.
        input_axes: optional axes whose sizes multiply into the fan-in (with ``output_axes``).
        output_axes: optional axes whose sizes multiply into the fan-out (with ``input_axes``).

    Returns:
        ``(fan_in, fan_out)`` as ints.
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


@register()
class VarianceScaling(RandomInitializer):
    """Samples whose variance adapts to the weight's shape: ``scale / n``.

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` (``mode``, at least 1).
    ``distribution="truncated_normal"`` draws from a normal truncated at two
    standard deviations, with its stddev ``sqrt(scale / n) / 0.8796...`` so the
    truncated samples keep the variance; ``"untruncated_normal"`` from
    N(0, scale / n); ``"uniform"`` from U[-limit, limit], ``limit = sqrt(3 scale / n)``.

    Args:
        scale: the variance factor (> 0).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (``"normal"`` means the same), ``"untruncated_normal"``
            or ``"uniform"``.
        seed: None, an int or an ``ember.random.Generator`` (see ``ember.initializers.RandomNormal``).
        input_axes: optional axes counted in the fan-in (see :func:`compute_fans`).
        output_axes: optional axes counted in the fan-out.
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be a positive float, got scale={scale!r}")
        if mode not in _MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {_MODES}, got mode={mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {_DISTRIBUTIONS} (or 'normal'), "
                f"got distribution={distribution!r}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given) with variance ``scale / n``."""
        shape = _shape(shape)
        dtype = dtype or floatx()
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return _random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(variance), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * variance)
        return _random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _NamedVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution; its config holds only the seed and axes."""

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(
            scale=self._SCALE,
            mode=self._MODE,
            distribution=self._DISTRIBUTION,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict:
        return {"seed": self._seed_config(), "input_axes": self.input_axes, "output_axes": self.output_axes}


@register()
class GlorotUniform(_NamedVarianceScaling):
    """Glorot (Xavier) uniform: U[-limit, limit] with ``limit = sqrt(6 / (fan_in + fan_out))``.

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "uniform"


@register()
class GlorotNormal(_NamedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal with variance ``2 / (fan_in + fan_out)``.

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


@register()
class HeUniform(_NamedVarianceScaling):
    """He uniform: U[-limit, limit] with ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "uniform"


@register()
class HeNormal(_NamedVarianceScaling):
    """He normal: truncated normal with variance ``2 / fan_in``.

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


@register()
class LecunUniform(_NamedVarianceScaling):
    """LeCun uniform: U[-limit, limit] with ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "uniform"


@register()
class LecunNormal(_NamedVarianceScaling):
    """LeCun normal: truncated normal with variance ``1 / fan_in`` (the partner of ``selu``).

    Args:
        seed: None, an int or an ``ember.random.Generator``.
        input_axes: optional axes counted in the fan-in.
        output_axes: optional axes counted in the fan-out.
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"
