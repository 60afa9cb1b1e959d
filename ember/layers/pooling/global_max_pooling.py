"""``GlobalMaxPooling1D`` and ``GlobalMaxPooling2D`` (aliases ``GlobalMaxPool1D``, ``GlobalMaxPool2D``)."""

from __future__ import annotations

from ...ops import max as reduce_max
from .base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling1D(BaseGlobalPooling):
    """The maximum over all steps of a sequence, per channel.

    Shapes: (batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with
    ``keepdims=True`` (channels_first: (batch, channels, steps) -> (batch, channels)).
    Gradient: shared evenly among tied maxima.

    Args:
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        keepdims: whether to keep the steps axis with size 1.

    Returns (when called):
        A tensor of shape (batch, channels) (or with the kept axis).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=1, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs):
        return reduce_max(inputs, axis=self.spatial_axes, keepdims=self.keepdims)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """The maximum over height and width, per channel.

    Shapes: (batch, height, width, channels) -> (batch, channels), or (batch, 1, 1, channels)
    with ``keepdims=True`` (channels_first: (batch, channels, height, width) -> (batch, channels)).

    Args:
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        keepdims: whether to keep the spatial axes with size 1.

    Returns (when called):
        A tensor of shape (batch, channels) (or with the kept axes).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=2, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs):
        return reduce_max(inputs, axis=self.spatial_axes, keepdims=self.keepdims)


GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
