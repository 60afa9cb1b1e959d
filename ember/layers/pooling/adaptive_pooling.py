"""Adaptive pooling (``AdaptiveAveragePooling1D/2D/3D``, ``AdaptiveMaxPooling1D/2D/3D``): a fixed output size.

Output cell ``i`` of an axis of ``n`` cells pooled to ``m`` covers input cells
``floor(i * n / m)`` to ``ceil((i + 1) * n / m)`` (PyTorch's and Keras's rule);
windows may overlap. A window is a product of per-axis intervals, so the pool
runs one axis at a time (the mean of means over equal-sized slices is the mean).
"""

from __future__ import annotations

import math

from ...backend.keras_api import image_data_format
from ...ops import amax, mean, stack
from ..layer import Layer


def _pool_axis(x, axis, out_size, reduce):
    n = x.shape[axis]
    if n == out_size:
        return x
    index = [slice(None)] * x.ndim
    pieces = []
    for i in range(out_size):
        index[axis] = slice((i * n) // out_size, math.ceil((i + 1) * n / out_size))
        pieces.append(reduce(x[tuple(index)], axis=axis))
    return stack(pieces, axis=axis)


class _AdaptivePooling(Layer):
    rank = 1
    reduce = staticmethod(mean)

    def __init__(self, output_size, data_format=None, **kwargs):
        if isinstance(output_size, int) and not isinstance(output_size, bool):
            output_size = (output_size,) * self.rank
        elif isinstance(output_size, (tuple, list)) and len(output_size) == self.rank:
            output_size = tuple(int(s) for s in output_size)
        else:
            raise TypeError(
                f"`output_size` must be an integer or a tuple of {self.rank} integers. "
                f"Received: {output_size} of type {type(output_size)}"
            )
        super().__init__(**kwargs)
        self.output_size = output_size
        self.data_format = data_format or image_data_format()
        if self.data_format not in ("channels_first", "channels_last"):
            raise ValueError(f"Invalid data_format: {self.data_format}. Expected 'channels_first' or 'channels_last'.")
        self.built = True

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 2}, got shape "
                f"{tuple(inputs.shape)}"
            )
        first = 1 if self.data_format == "channels_last" else 2
        for k, size in enumerate(self.output_size):
            inputs = _pool_axis(inputs, first + k, size, type(self).reduce)
        return inputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self) -> dict:
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


def _make(name, rank, reduce, what):
    doc = (
        f"Adaptive {what} pooling to a fixed output size over {rank} spatial axes, as ``keras.layers.{name}``.\n\n"
        f"    Shapes: (batch, *spatial, channels) -> (batch, *output_size, channels) (channels_first likewise).\n\n"
        f'    Args:\n        output_size: an int or {rank} ints.\n        data_format: "channels_last" or '
        f'"channels_first".\n    '
    )
    return type(name, (_AdaptivePooling,), {"rank": rank, "reduce": staticmethod(reduce), "__doc__": doc})


AdaptiveAveragePooling1D = _make("AdaptiveAveragePooling1D", 1, mean, "average")
AdaptiveAveragePooling2D = _make("AdaptiveAveragePooling2D", 2, mean, "average")
AdaptiveAveragePooling3D = _make("AdaptiveAveragePooling3D", 3, mean, "average")
AdaptiveMaxPooling1D = _make("AdaptiveMaxPooling1D", 1, amax, "max")
AdaptiveMaxPooling2D = _make("AdaptiveMaxPooling2D", 2, amax, "max")
AdaptiveMaxPooling3D = _make("AdaptiveMaxPooling3D", 3, amax, "max")
