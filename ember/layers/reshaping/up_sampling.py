"""``UpSampling1D`` and ``UpSampling2D``: enlarge sequences and images by whole factors."""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor
from ...ops import repeat, take
from ..convolutional.arguments import standardize_data_format, standardize_tuple
from ..input_spec import InputSpec
from ..layer import Layer

_INTERPOLATIONS = ("nearest", "bilinear")
_KERAS_ONLY = ("bicubic", "lanczos3", "lanczos5", "area")


class UpSampling1D(Layer):
    """Repeat each step of a sequence ``size`` times.

    Shapes: (batch, steps, features) -> (batch, steps * size, features).

    Args:
        size: the upsampling factor (a positive int; Keras 1: ``length``).

    Returns (when called):
        A tensor of shape (batch, steps * size, features).
    """

    def __init__(self, size=2, **kwargs):
        if "length" in kwargs:
            from ..convolutional.base_conv import warn_legacy

            warn_legacy("UpSampling1D", "length", "size")
            size = kwargs.pop("length")
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"UpSampling1D: `size` must be an integer, received size={size!r}")
        if size <= 0:
            raise ValueError(f"UpSampling1D: `size` must be a positive integer, received size={size}")
        self.size = size
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        return repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Enlarge images by ``size = (rows, cols)``: nearest (repeat rows and columns) or bilinear.

    Shapes: channels_last (batch, height, width, channels) -> (batch, height * rows, width * cols, channels)
    (channels_first: (batch, channels, height, width) -> (batch, channels, height * rows, width * cols)).

    "bilinear" samples the input at the half-pixel centres of the output cells,
    ``(i + 0.5) / factor - 0.5``, clamped to the image, and interpolates linearly
    between the two nearest input cells on each axis (as Keras's ``image.resize``
    without antialiasing).

    Args:
        size: the factors (an int or a pair).
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        interpolation: "nearest" or "bilinear" (Keras's other modes raise NotImplementedError).

    Returns (when called):
        A tensor with the spatial axes enlarged.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        if "dim_ordering" in kwargs and data_format is None:
            data_format = kwargs.pop("dim_ordering")  # Keras 1's "tf"/"th"
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("UpSampling2D", data_format, channels_first=True)
        self.size = standardize_tuple("UpSampling2D", "size", size, 2)
        self.interpolation = str(interpolation).lower()
        if self.interpolation in _KERAS_ONLY:
            raise NotImplementedError(
                f"UpSampling2D: interpolation={interpolation!r} is not supported by Ember; use one of {_INTERPOLATIONS}"
            )
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"UpSampling2D: `interpolation` must be one of {_INTERPOLATIONS}, "
                f"received interpolation={interpolation!r}"
            )
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    @property
    def _axes(self) -> tuple:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def call(self, inputs):
        for axis, factor in zip(self._axes, self.size):
            if factor == 1:
                continue
            if self.interpolation == "nearest":
                inputs = repeat(inputs, factor, axis=axis)
            else:
                inputs = _linear_upsample(inputs, axis, factor)
        return inputs

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._axes, self.size):
            if out[axis] is not None:
                out[axis] = out[axis] * factor
        return tuple(out)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


def _linear_upsample(x, axis: int, factor: int):
    """``x`` enlarged ``factor`` times along ``axis`` by linear interpolation at half-pixel centres."""
    n = x.shape[axis]
    source = numpy.maximum((numpy.arange(n * factor) + 0.5) / factor - 0.5, 0.0)
    low = numpy.minimum(numpy.floor(source).astype(numpy.int64), n - 1)
    high = numpy.minimum(low + 1, n - 1)
    shape = [1] * x.ndim
    shape[axis] = n * factor
    weight = Tensor((source - low).astype(x.dtype).reshape(shape), device=x.device)
    lo, hi = take(x, low, axis=axis), take(x, high, axis=axis)
    return lo + (hi - lo) * weight
