"""``Cropping1D`` and ``Cropping2D``: cells cut off the borders of sequences and images."""

from __future__ import annotations

from ..convolutional.arguments import standardize_data_format, standardize_tuple
from ..input_spec import InputSpec
from ..layer import Layer
from .zero_padding import standardize_pairs


def _check_crop(layer, sizes, crops, shape) -> None:
    """ValueError when a crop removes a whole axis (unknown sizes pass)."""
    for size, crop in zip(sizes, crops):
        if size is not None and sum(crop) >= size:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': `cropping` must leave at least one cell on each cropped "
                f"axis; received input shape {tuple(shape)} and cropping={layer.cropping}"
            )


class Cropping1D(Layer):
    """Cut steps off the start and end of sequences.

    Shapes: (batch, steps, features) -> (batch, steps - start - end, features).

    Args:
        cropping: an int (the same on both ends) or a pair (start, end).

    Returns (when called):
        The cropped tensor (a view of the input).
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple("Cropping1D", "cropping", cropping, 2, allow_zero=True)
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        _check_crop(self, inputs.shape[1:2], (self.cropping,), inputs.shape)
        start, end = self.cropping
        return inputs[:, start : inputs.shape[1] - end, :]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        _check_crop(self, input_shape[1:2], (self.cropping,), input_shape)
        steps = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Cut rows and columns off the borders of images.

    Shapes: (batch, height, width, channels) -> (batch, height - top - bottom, width - left - right, channels)
    (channels_first: the last two axes are cropped).

    Args:
        cropping: an int (all sides), a pair (symmetric height crop, symmetric width crop)
            or a pair of pairs ((top, bottom), (left, right)).
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        The cropped tensor (a view of the input).
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("Cropping2D", data_format, channels_first=True)
        self.cropping = standardize_pairs("Cropping2D", "cropping", cropping)
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    @property
    def _first(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def call(self, inputs):
        first = self._first
        shape = inputs.shape
        _check_crop(self, shape[first : first + 2], self.cropping, shape)
        (top, bottom), (left, right) = self.cropping
        rows = slice(top, shape[first] - bottom)
        cols = slice(left, shape[first + 1] - right)
        if first == 1:
            return inputs[:, rows, cols, :]
        return inputs[:, :, rows, cols]

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = self._first
        _check_crop(self, out[first : first + 2], self.cropping, input_shape)
        for i, crop in enumerate(self.cropping):
            if out[first + i] is not None:
                out[first + i] -= sum(crop)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
