"""``UpSampling3D``, ``ZeroPadding3D`` and ``Cropping3D``: the volume versions of the image reshaping layers."""

from __future__ import annotations

from ...ops import pad, repeat
from ..convolutional.arguments import standardize_data_format, standardize_tuple
from ..input_spec import InputSpec
from ..layer import Layer


def _triple_of_pairs(layer: str, name: str, value) -> tuple:
    """An int (every side), a triple of ints (symmetric per axis) or a triple of pairs, as three (before, after)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{layer}: `{name}` must be >= 0, received {name}={value}")
        return ((value, value),) * 3
    if not hasattr(value, "__len__") or len(value) != 3:
        raise ValueError(
            f"{layer}: `{name}` must be an int, a triple of ints (symmetric depth, height, width) or a triple of "
            f"pairs ((front, back), (top, bottom), (left, right)), received {name}={value!r}"
        )
    return tuple(standardize_tuple(layer, f"entry {i} of {name}", v, 2, allow_zero=True) for i, v in enumerate(value))


class _Volume(Layer):
    """What the three share: a channels-last or channels-first 5-D input."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(type(self).__name__, data_format, channels_first=True)
        self.input_spec = InputSpec(ndim=5)
        self.built = True

    @property
    def _axes(self) -> tuple:
        return (1, 2, 3) if self.data_format == "channels_last" else (2, 3, 4)


class UpSampling3D(_Volume):
    """Repeat each cell ``size`` times along depth, height and width, as ``keras.layers.UpSampling3D``.

    Shapes: (batch, d, h, w, channels) -> (batch, d * s0, h * s1, w * s2, channels).

    Args:
        size: an int or a triple of factors (default (2, 2, 2)).
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = standardize_tuple("UpSampling3D", "size", size, 3)

    def call(self, inputs):
        for axis, factor in zip(self._axes, self.size):
            if factor > 1:
                inputs = repeat(inputs, factor, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._axes, self.size):
            out[axis] = None if out[axis] is None else out[axis] * factor
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class ZeroPadding3D(_Volume):
    """Add zeros around volumes, as ``keras.layers.ZeroPadding3D``.

    Shapes: (batch, d, h, w, channels) -> each spatial size plus its two paddings.

    Args:
        padding: an int, a triple of ints or a triple of pairs ((front, back), (top, bottom), (left, right)).
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _triple_of_pairs("ZeroPadding3D", "padding", padding)

    def call(self, inputs):
        widths = [(0, 0)] * 5
        for axis, pair in zip(self._axes, self.padding):
            widths[axis] = pair
        return pad(inputs, tuple(widths))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, pair in zip(self._axes, self.padding):
            out[axis] = None if out[axis] is None else out[axis] + sum(pair)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping3D(_Volume):
    """Cut cells off the borders of volumes, as ``keras.layers.Cropping3D``.

    Shapes: (batch, d, h, w, channels) -> each spatial size minus its two crops.

    Args:
        cropping: an int, a triple of ints or a triple of pairs.
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _triple_of_pairs("Cropping3D", "cropping", cropping)

    def call(self, inputs):
        index = [slice(None)] * 5
        for axis, (before, after) in zip(self._axes, self.cropping):
            size = inputs.shape[axis]
            if before + after >= size:
                raise ValueError(
                    f"Cropping3D '{self.name}': cropping {self.cropping} leaves nothing of the input of shape "
                    f"{tuple(inputs.shape)} (axis {axis} has {size} cells)"
                )
            index[axis] = slice(before, size - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, pair in zip(self._axes, self.cropping):
            out[axis] = None if out[axis] is None else out[axis] - sum(pair)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
