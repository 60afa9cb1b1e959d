"""``ActivityRegularization``: an identity layer that adds an L1/L2 penalty on its inputs to the loss."""

from __future__ import annotations

from ... import regularizers
from ..activations._mask import passthrough_mask
from ..layer import Layer


class ActivityRegularization(Layer):
    """Return the inputs unchanged and add ``l1 * sum|x| + l2 * sum x**2`` (divided by the batch size) to the loss.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        l1: the L1 factor (float >= 0).
        l2: the L2 factor (float >= 0).
        **kwargs: base layer arguments.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
