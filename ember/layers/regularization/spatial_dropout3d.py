"""``SpatialDropout3D``: dropout of whole 3-D feature maps (channels of volumes)."""

from __future__ import annotations

from ...backend.keras_api import image_data_format
from .spatial_dropout import _SpatialDropout


class SpatialDropout3D(_SpatialDropout):
    """Drop entire 3D feature maps, as ``keras.layers.SpatialDropout3D``.

    Shapes: (batch, d, h, w, channels) (channels_first: (batch, channels, d, h, w)) -> the same;
    the dropout mask is (batch, 1, 1, 1, channels) (or (batch, channels, 1, 1, 1)).

    Args:
        rate: float in [0, 1], the fraction of channels dropped.
        data_format: "channels_last" or "channels_first" (default ``image_data_format()``).
        seed: an int for a layer-owned generator, or None.
    """

    _ndim = 5

    def __init__(self, rate=None, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        data_format = image_data_format() if data_format is None else str(data_format).lower()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "SpatialDropout3D: data_format must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format

    def _noise_shape(self, inputs):
        shape = inputs.shape
        if self.data_format == "channels_first":
            return (shape[0], shape[1], 1, 1, 1)
        return (shape[0], 1, 1, 1, shape[4])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
