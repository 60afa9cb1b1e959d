"""``MaxPooling1D`` and ``MaxPooling2D`` (aliases ``MaxPool1D``, ``MaxPool2D``): the maximum of each window."""

from __future__ import annotations

from .base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max pooling over the steps of a sequence, channel by channel.

    Shapes: inputs (batch, steps, channels) -> (batch, new_steps, channels), new_steps
    ``floor((steps - pool_size) / strides) + 1`` ("valid") or ``ceil(steps / strides)`` ("same").

    Args:
        pool_size: the window length (an int; Keras 1: ``pool_length``).
        strides: the step between windows (None: ``pool_size``; Keras 1: ``stride``).
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        A tensor of shape (batch, new_steps, channels).
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size, strides, pool_dimensions=1, pool_mode="max", padding=padding, data_format=data_format,
            name=name, **kwargs,
        )  # fmt: skip


class MaxPooling2D(BasePooling):
    """Max pooling over height and width, channel by channel.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width, channels),
    new sizes as :class:`MaxPooling1D` on each axis.

    Args:
        pool_size: the window (an int or a pair).
        strides: the step between windows (None: ``pool_size``).
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, channels).

    Example:
        >>> ember.layers.MaxPooling2D(pool_size=(2, 2))(ember.ones((8, 26, 26, 32))).shape
        (8, 13, 13, 32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size, strides, pool_dimensions=2, pool_mode="max", padding=padding, data_format=data_format,
            name=name, **kwargs,
        )  # fmt: skip


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
