"""``Dropout``: zero a random fraction of the inputs while training and scale the rest up."""

from __future__ import annotations

import numbers

from ...ops import dropout
from ..activations._mask import passthrough_mask
from ..layer import Layer
from ..legacy import rename_legacy_kwargs
from ._seed import layer_generator


def check_rate(layer_name: str, rate) -> float:
    """``rate`` as a float in [0, 1], or a ValueError naming the layer."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise ValueError(
            f"{layer_name}: invalid value for argument `rate`, expected a float between 0 and 1. Received: rate={rate}"
        )
    return rate


class Dropout(Layer):
    """Inverted dropout: while training, each unit is set to 0 with probability ``rate``
    and the kept ones are multiplied by ``1 / (1 - rate)``; at inference the
    inputs pass unchanged.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        rate: float in [0, 1], the fraction of units dropped (Keras 2: ``p``).
        noise_shape: the shape of the random keep/drop mask, one entry per input
            axis; None entries take the input's size, 1 shares one draw along
            that axis, e.g. ``(batch, 1, features)`` drops the same features at
            every time step.
        seed: an int for a layer-owned generator (reproducible runs), or None
            for the process-wide generator.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: a float tensor.
        training: True to drop units; False or None (the default outside fit) passes through.
    """

    def __init__(self, rate=None, noise_shape=None, seed=None, **kwargs):
        kwargs = rename_legacy_kwargs(type(self).__name__, kwargs, ("rate",))
        if "rate" in kwargs:
            if rate is not None:
                raise TypeError(f"{type(self).__name__}: got both `rate` and the Keras 2 `p`; pass only `rate`")
            rate = kwargs.pop("rate")
        if rate is None:
            raise TypeError(f"{type(self).__name__}: missing the required argument `rate`")
        super().__init__(**kwargs)
        self.rate = check_rate(type(self).__name__, rate)
        self.seed = seed
        self.noise_shape = self._validate_noise_shape(noise_shape)
        self._generator = layer_generator(type(self).__name__, seed)
        self.supports_masking = True

    def _validate_noise_shape(self, noise_shape):
        if noise_shape is None:
            return None
        where = f"{type(self).__name__}: invalid value for argument `noise_shape`"
        if isinstance(noise_shape, str):
            raise ValueError(f"{where}, expected a tuple or list of integers. Received: noise_shape={noise_shape}")
        try:
            noise_shape = tuple(noise_shape)
        except TypeError:
            raise ValueError(
                f"{where}, expected an iterable of integers (e.g. a tuple or list). Received: noise_shape={noise_shape}"
            ) from None
        for i, dim in enumerate(noise_shape):
            if dim is None:
                continue
            if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
                raise ValueError(
                    f"{where}, expected integers or None. Received element at index {i}: {dim} "
                    f"(type: {type(dim).__name__})"
                )
            if dim <= 0:
                raise ValueError(f"{where}, expected positive integers or None. Received at index {i}: {dim}")
        return noise_shape

    def _noise_shape(self, inputs):
        return self.noise_shape

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0  # every unit dropped (ember.dropout takes rates below 1)
        return dropout(inputs, self.rate, training=True, noise_shape=self._noise_shape(inputs), seed=self._generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}
