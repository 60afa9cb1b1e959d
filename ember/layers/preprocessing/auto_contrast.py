"""``AutoContrast``: stretch each image channel to the full value range."""

from __future__ import annotations

from ... import ops
from ..layer import Layer
from .random_color import _to_range, _value_range
from .resizing import channels_last_batch


class AutoContrast(Layer):
    """Map each channel's minimum to the range's low end and its maximum to the high end, as
    ``keras.layers.AutoContrast`` (always, training or not). A constant channel is left as it is.

    Args:
        value_range: the images' range (default (0, 255)).
    """

    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = _value_range(self, value_range)
        self.data_format = data_format or "channels_last"
        self.built = True

    def call(self, inputs):
        images, restore = channels_last_batch(self, inputs)
        x = _to_range(images, self.value_range, (0, 255))
        low = ops.min(x, axis=(1, 2), keepdims=True)
        high = ops.max(x, axis=(1, 2), keepdims=True)
        span = high - low
        flat = span.numpy() == 0
        scale = 255.0 / ops.where(flat, 1.0, span)
        out = ops.clip(x * scale - low * scale, 0.0, 255.0)
        out = _to_range(out, (0, 255), self.value_range)
        return restore(ops.where(flat, images, out))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range}
