"""``UnitNormalization``: scale each example to unit L2 norm over ``axis``."""

from __future__ import annotations

from ...ops import maximum, sqrt, square
from ...ops import sum as reduce_sum
from ..activations._mask import passthrough_mask
from ..layer import Layer

_EPSILON = 1e-12  # Keras's floor on the norm (ops.normalize's epsilon)


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


class UnitNormalization(Layer):
    """``x / max(||x||_2, 1e-12)`` over ``axis``, as ``keras.layers.UnitNormalization``.

    Shapes: outputs like inputs. No weights.

    Args:
        axis: an int or a list of ints (-1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        squares = reduce_sum(square(inputs), axis=_axes(self.axis), keepdims=True)
        return inputs / sqrt(maximum(squares, _EPSILON * _EPSILON))

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
