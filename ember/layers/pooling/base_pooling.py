"""``BasePooling``: what the max and average pooling layers share (arguments, output shape, config)."""

from __future__ import annotations

from ...ops import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from ..convolutional.arguments import (
    spatial_output_shape,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from ..convolutional.base_conv import take_legacy_kwargs, warn_legacy
from ..input_spec import InputSpec
from ..layer import Layer

_OPS = {("max", 1): max_pool1d, ("max", 2): max_pool2d, ("average", 1): avg_pool1d, ("average", 2): avg_pool2d}
POOLING_LEGACY_TARGETS = ("strides", "padding", "data_format")


class BasePooling(Layer):
    """Max or average over sliding windows of channels-last inputs, channel by channel.

    Shapes: inputs (batch, *spatial, channels) -> (batch, *new_spatial, channels), new sizes
    ``floor((size - pool) / stride) + 1`` for "valid" and ``ceil(size / stride)`` for "same"
    ("same" pads so that padded cells never win a max and are not counted in an average).

    Args:
        pool_size: the window (an int or ``pool_dimensions`` ints).
        strides: the step between windows; None: ``pool_size``.
        pool_dimensions: the number of spatial axes (1 or 2).
        pool_mode: "max" or "average".
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``;
            Keras 1: ``dim_ordering="tf"``); "channels_first" raises NotImplementedError.
    """

    def __init__(
        self, pool_size, strides, pool_dimensions, pool_mode="max", padding="valid", data_format=None, **kwargs
    ):
        name = type(self).__name__
        if pool_dimensions == 1:
            for old, new in (("pool_length", "pool_size"), ("stride", "strides")):
                if old in kwargs:
                    warn_legacy(name, old, new)
                    value = kwargs.pop(old)
                    if new == "pool_size":
                        pool_size = value
                    else:
                        kwargs["strides"] = value
        given = {"strides": strides, "padding": padding, "data_format": data_format}
        if "strides" in kwargs:
            if strides is not None:
                raise TypeError(f"{name}: got both `strides` and its Keras 1 spelling; pass only `strides`")
            given["strides"] = kwargs.pop("strides")
        given = take_legacy_kwargs(BasePooling, kwargs, given, POOLING_LEGACY_TARGETS, name)
        super().__init__(**kwargs)
        if pool_mode not in ("max", "average"):
            raise ValueError(f"{name}: `pool_mode` must be 'max' or 'average', received pool_mode={pool_mode!r}")
        if pool_size is None:
            raise TypeError(f"{name}: missing the `pool_size` argument (an int or {pool_dimensions} ints)")
        self.pool_dimensions = pool_dimensions
        self.pool_mode = pool_mode
        self.pool_size = standardize_tuple(name, "pool_size", pool_size, pool_dimensions)
        strides = given["strides"]
        if strides is None:
            strides = self.pool_size
        self.strides = standardize_tuple(name, "strides", strides, pool_dimensions)
        self.padding = standardize_padding(name, given["padding"])
        self.data_format = standardize_data_format(name, given["data_format"])
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def call(self, inputs):
        op = _OPS[(self.pool_mode, self.pool_dimensions)]
        return op(inputs, pool_size=self.pool_size, strides=self.strides, padding=self.padding)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return spatial_output_shape(
            f"{type(self).__name__} '{self.name}'",
            input_shape,
            self.pool_size,
            self.strides,
            self.padding,
            (1,) * self.pool_dimensions,
            input_shape[-1],
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }
