"""``ZeroPadding1D`` and ``ZeroPadding2D``: rows of zeros added around sequences and images."""

from __future__ import annotations

from ...ops import pad
from ..convolutional.arguments import standardize_data_format, standardize_tuple
from ..input_spec import InputSpec
from ..layer import Layer


class ZeroPadding1D(Layer):
    """Add zeros at the start and end of the steps axis.

    Shapes: (batch, steps, features) -> (batch, left + steps + right, features)
    (channels_first: (batch, features, steps) -> (batch, features, left + steps + right)).

    Args:
        padding: an int (the same on both sides) or a pair (left, right).
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        The padded tensor.
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("ZeroPadding1D", data_format, channels_first=True)
        self.padding = standardize_tuple("ZeroPadding1D", "padding", padding, 2, allow_zero=True)
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        if self.data_format == "channels_last":
            return pad(inputs, ((0, 0), self.padding, (0, 0)))
        return pad(inputs, ((0, 0), (0, 0), self.padding))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axis = 1 if self.data_format == "channels_last" else 2
        if out[axis] is not None:
            out[axis] += sum(self.padding)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


def standardize_pairs(layer: str, name: str, value) -> tuple:
    """An int, a pair of ints (symmetric per axis) or a pair of pairs as ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{layer}: `{name}` must be >= 0, received {name}={value}")
        return ((value, value), (value, value))
    if not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(
            f"{layer}: `{name}` must be an int, a pair of ints (symmetric height, width) or a pair of pairs "
            f"((top, bottom), (left, right)), received {name}={value!r}"
        )
    return (
        standardize_tuple(layer, f"1st entry of {name}", value[0], 2, allow_zero=True),
        standardize_tuple(layer, f"2nd entry of {name}", value[1], 2, allow_zero=True),
    )


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around images.

    Shapes: (batch, height, width, channels) -> (batch, top + height + bottom, left + width + right, channels)
    (channels_first: the last two axes are padded).

    Args:
        padding: an int (all sides), a pair (symmetric height padding, symmetric width padding)
            or a pair of pairs ((top, bottom), (left, right)).
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        The padded tensor.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        if "dim_ordering" in kwargs and data_format is None:
            data_format = kwargs.pop("dim_ordering")  # Keras 1's "tf"/"th"
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("ZeroPadding2D", data_format, channels_first=True)
        self.padding = standardize_pairs("ZeroPadding2D", "padding", padding)
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def call(self, inputs):
        if self.data_format == "channels_last":
            return pad(inputs, ((0, 0), *self.padding, (0, 0)))
        return pad(inputs, ((0, 0), (0, 0), *self.padding))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        for i, widths in enumerate(self.padding):
            if out[first + i] is not None:
                out[first + i] += sum(widths)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
