"""``SpatialDropout1D`` / ``SpatialDropout2D``: dropout of whole feature maps (channels)."""

from __future__ import annotations

from ...backend.keras_api import image_data_format
from ..input_spec import InputSpec
from .dropout import Dropout


class _SpatialDropout(Dropout):
    """Dropout with one keep/drop draw per (example, channel), shared over the other axes."""

    _ndim = 3

    def __init__(self, rate=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.input_spec = InputSpec(ndim=self._ndim)

    def get_config(self) -> dict:
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """Drop entire 1D feature maps: the same channels of an example are zeroed at every step.

    Shapes: inputs (batch, timesteps, channels) -> outputs of the same shape;
    the dropout mask has shape (batch, 1, channels).

    Args:
        rate: float in [0, 1], the fraction of channels dropped.
        seed: an int for a layer-owned generator, or None (process-wide generator).
        name, dtype: as for every layer (``input_shape`` etc. also accepted).
    """

    _ndim = 3

    def _noise_shape(self, inputs):
        batch, _, channels = inputs.shape
        return (batch, 1, channels)


class SpatialDropout2D(_SpatialDropout):
    """Drop entire 2D feature maps: whole channels of an example are zeroed.

    Shapes: inputs (batch, rows, cols, channels) for ``"channels_last"`` or
    (batch, channels, rows, cols) for ``"channels_first"`` -> the same shape;
    the dropout mask is (batch, 1, 1, channels) or (batch, channels, 1, 1).

    Args:
        rate: float in [0, 1], the fraction of channels dropped.
        data_format: ``"channels_last"`` or ``"channels_first"``; default
            ``ember.backend.image_data_format()``.
        seed: an int for a layer-owned generator, or None (process-wide generator).
        name, dtype: as for every layer.
    """

    _ndim = 4

    def __init__(self, rate=None, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        data_format = image_data_format() if data_format is None else str(data_format).lower()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"SpatialDropout2D: data_format must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format

    def _noise_shape(self, inputs):
        shape = inputs.shape
        if self.data_format == "channels_first":
            return (shape[0], shape[1], 1, 1)
        return (shape[0], 1, 1, shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
