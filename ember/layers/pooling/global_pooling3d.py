"""``GlobalMaxPooling3D`` and ``GlobalAveragePooling3D`` (aliases ``GlobalMaxPool3D``, ``GlobalAvgPool3D``)."""

from __future__ import annotations

from ...ops import amax, mean
from .base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling3D(BaseGlobalPooling):
    """The maximum over depth, height and width, per channel, as ``keras.layers.GlobalMaxPooling3D``.

    Shapes: (batch, depth, height, width, channels) -> (batch, channels), or
    (batch, 1, 1, 1, channels) with ``keepdims=True`` (channels_first: channels on axis 1).

    Args:
        data_format: "channels_last" or "channels_first".
        keepdims: whether to keep the spatial axes with size 1.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=3, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs):
        return amax(inputs, axis=self.spatial_axes, keepdims=self.keepdims)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """The mean over depth, height and width, per channel, as ``keras.layers.GlobalAveragePooling3D``.

    Shapes and arguments as :class:`GlobalMaxPooling3D`.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=3, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs):
        return mean(inputs, axis=self.spatial_axes, keepdims=self.keepdims)


GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
