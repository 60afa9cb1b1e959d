"""``Masking``: mark the time steps whose features all equal ``mask_value`` as padding."""

from __future__ import annotations

from ...ops.arithmetic import where
from ...ops.comparison import not_equal
from ...ops.reduction import any as any_
from ..layer import Layer


class Masking(Layer):
    """Mask the steps of a sequence where every feature equals ``mask_value``.

    Shapes: inputs (batch, timesteps, features) -> the same shape, with the
    masked steps set to 0; the output carries the mask (batch, timesteps), True
    where a step counts, which layers that support masking (LSTM, ...) follow.

    Args:
        mask_value: the padding value (default 0.0).
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return any_(not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = any_(not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return where(keep, inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
