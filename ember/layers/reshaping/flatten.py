"""``Flatten``: every axis but the batch axis folded into one."""

from __future__ import annotations

import math

from ...ops import reshape, transpose
from ..convolutional.arguments import standardize_data_format
from ..input_spec import InputSpec
from ..layer import Layer


class Flatten(Layer):
    """Fold all non-batch axes into one, for inputs of any rank.

    Shapes: (batch, d1, ..., dk) -> (batch, d1 * ... * dk); a rank-1 input (batch,)
    becomes (batch, 1). With ``data_format="channels_first"`` the channel axis
    (axis 1) is moved last first, so the order of the values matches a
    channels-last model's.

    Args:
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).

    Returns (when called):
        A tensor of shape (batch, product of the other sizes).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("Flatten", data_format, channels_first=True)
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs):
        rank = inputs.ndim
        if self.data_format == "channels_first" and rank > 2:
            inputs = transpose(inputs, (0, *range(2, rank), 1))
        return reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
