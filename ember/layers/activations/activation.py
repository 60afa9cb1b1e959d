"""``Activation``: apply an activation function (a name or a callable) elementwise."""

from __future__ import annotations

from ... import activations
from ..layer import Layer
from ._mask import passthrough_mask


class Activation(Layer):
    """Apply ``activation`` to the inputs.

    Shapes: inputs (batch, ...) -> outputs of the same shape. Masks pass through.

    Args:
        activation: the name of a function of ``ember.activations`` (``"relu"``,
            ``"softmax"``, ...) or a callable taking and returning a tensor.
        **kwargs: base layer arguments (``name``, ``dtype``, ``input_shape``, ...).
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
