"""``ELU``: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""

from __future__ import annotations

from ...ops import elu
from ..layer import Layer
from ._mask import passthrough_mask


class ELU(Layer):
    """Exponential linear unit.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        alpha: the scale of the negative part. Default 1.0.
        **kwargs: base layer arguments.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True

    def call(self, inputs):
        return elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}
