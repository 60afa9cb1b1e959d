"""``AveragePooling1D`` and ``AveragePooling2D`` (aliases ``AvgPool1D``, ``AvgPool2D``): the mean of each window."""

from __future__ import annotations

from .base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Average pooling over the steps of a sequence, channel by channel.

    Shapes: inputs (batch, steps, channels) -> (batch, new_steps, channels), new sizes as
    :class:`MaxPooling1D`; with "same", each window is divided by its number of real steps.

    Args:
        pool_size: the window length (an int; Keras 1: ``pool_length``).
        strides: the step between windows (None: ``pool_size``; Keras 1: ``stride``).
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        A tensor of shape (batch, new_steps, channels).
    """

    def __init__(self, pool_size=None, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size, strides, pool_dimensions=1, pool_mode="average", padding=padding, data_format=data_format,
            name=name, **kwargs,
        )  # fmt: skip


class AveragePooling2D(BasePooling):
    """Average pooling over height and width, channel by channel.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width, channels),
    new sizes as :class:`MaxPooling2D`; with "same", each window is divided by its number of real cells.

    Args:
        pool_size: the window (an int or a pair).
        strides: the step between windows (None: ``pool_size``).
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, channels).
    """

    def __init__(self, pool_size=None, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size, strides, pool_dimensions=2, pool_mode="average", padding=padding, data_format=data_format,
            name=name, **kwargs,
        )  # fmt: skip


AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
