"""``MaxPooling3D`` and ``AveragePooling3D`` (aliases ``MaxPool3D``, ``AvgPool3D``): windows over volumes.

A 3-D window's max (or mean) is taken in two passes: the 2-D pool over height
and width of every depth plane, then the 1-D pool over depth. Both passes
agree with the one-pass result, for "same" averages too: the number of real
cells in a window is the product of the per-axis counts.
"""

from __future__ import annotations

from ...ops import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, reshape, transpose
from .base_pooling import BasePooling

_PASSES = {"max": (max_pool2d, max_pool1d), "average": (avg_pool2d, avg_pool1d)}


class _Pooling3D(BasePooling):
    mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size, strides, pool_dimensions=3, pool_mode=self.mode, padding=padding, data_format=data_format,
            name=name, **kwargs,
        )  # fmt: skip

    def call(self, inputs):
        pool2d, pool1d = _PASSES[self.pool_mode]
        batch, depth, height, width, channels = inputs.shape
        planes = reshape(inputs, (batch * depth, height, width, channels))
        planes = pool2d(planes, pool_size=self.pool_size[1:], strides=self.strides[1:], padding=self.padding)
        _, h2, w2, _ = planes.shape
        columns = transpose(reshape(planes, (batch, depth, h2, w2, channels)), (0, 2, 3, 1, 4))
        columns = reshape(columns, (batch * h2 * w2, depth, channels))
        columns = pool1d(columns, pool_size=self.pool_size[:1], strides=self.strides[:1], padding=self.padding)
        d2 = columns.shape[1]
        return transpose(reshape(columns, (batch, h2, w2, d2, channels)), (0, 3, 1, 2, 4))


class MaxPooling3D(_Pooling3D):
    """Max pooling over depth, height and width, channel by channel, as ``keras.layers.MaxPooling3D``.

    Shapes: (batch, depth, height, width, channels) -> (batch, new_depth, new_height, new_width,
    channels), each new size as :class:`MaxPooling1D`'s.

    Args:
        pool_size: the window (an int or a triple; default (2, 2, 2)).
        strides: the step between windows (None: ``pool_size``).
        padding: "valid" or "same".
        data_format: "channels_last".
    """

    mode = "max"


class AveragePooling3D(_Pooling3D):
    """Average pooling over depth, height and width, as ``keras.layers.AveragePooling3D``.

    Shapes and arguments as :class:`MaxPooling3D`; "same" windows average their real cells only.
    """

    mode = "average"


MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
