"""``ReLU``: Keras's general rectifier with a cap, a threshold and a slope below it."""

from __future__ import annotations

from ...ops import relu
from ..layer import Layer
from ._mask import passthrough_mask


class ReLU(Layer):
    """Rectified linear unit with optional cap, threshold and negative slope.

    ``f(x) = max_value`` for x >= max_value, ``x`` for threshold <= x < max_value,
    ``negative_slope * (x - threshold)`` otherwise. Shapes: outputs like inputs.

    Args:
        max_value: float >= 0, the largest output; None for no cap.
        negative_slope: float >= 0, the slope below ``threshold``.
        threshold: float >= 0, values below it are damped (or zeroed).
        **kwargs: base layer arguments.

    Raises:
        ValueError: when an argument is negative (or None where a float is needed).
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"ReLU: max_value cannot be negative. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(
                f"ReLU: negative_slope must be a float >= 0, not None or negative. Received: "
                f"negative_slope={negative_slope}"
            )
        if threshold is None or threshold < 0.0:
            raise ValueError(
                f"ReLU: threshold must be a float >= 0, not None or negative. Received: threshold={threshold}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True

    def call(self, inputs):
        return relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }
