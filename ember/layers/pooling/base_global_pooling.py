"""``BaseGlobalPooling``: what the global pooling layers share (spatial axes, keepdims, output shape, config)."""

from __future__ import annotations

from ..convolutional.arguments import standardize_data_format
from ..input_spec import InputSpec
from ..layer import Layer


class BaseGlobalPooling(Layer):
    """A reduction over every spatial axis, keeping the batch and channel axes.

    Shapes: channels_last (batch, *spatial, channels) -> (batch, channels), or
    (batch, 1, ..., 1, channels) with ``keepdims=True``; channels_first
    (batch, channels, *spatial) -> (batch, channels) or (batch, channels, 1, ..., 1).

    Args:
        pool_dimensions: the number of spatial axes (1 or 2).
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        keepdims: whether to keep the spatial axes with size 1.
    """

    def __init__(self, pool_dimensions, data_format=None, keepdims=False, **kwargs):
        if "dim_ordering" in kwargs and data_format is None:
            data_format = kwargs.pop("dim_ordering")  # Keras 1's "tf"/"th"
        super().__init__(**kwargs)
        self.pool_dimensions = pool_dimensions
        self.data_format = standardize_data_format(type(self).__name__, data_format, channels_first=True)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    @property
    def spatial_axes(self) -> tuple:
        """The axes the layer reduces."""
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.pool_dimensions))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        ones = (1,) * self.pool_dimensions if self.keepdims else ()
        if self.data_format == "channels_last":
            return (input_shape[0], *ones, input_shape[-1])
        return (input_shape[0], input_shape[1], *ones)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
