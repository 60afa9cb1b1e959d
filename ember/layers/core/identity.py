"""``Identity``: returns its inputs unchanged (a placeholder layer)."""

from __future__ import annotations

from ..layer import Layer


class Identity(Layer):
    """Passes the inputs through, masks included, as ``keras.layers.Identity``.

    Shapes: any structure of tensors -> the same structure.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
