"""``LeakyReLU``: ``x`` for x >= 0, ``negative_slope * x`` below."""

from __future__ import annotations

import warnings

from ...ops import leaky_relu
from ..layer import Layer
from ._mask import passthrough_mask


class LeakyReLU(Layer):
    """Leaky rectifier: a small slope for negative inputs.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        negative_slope: float >= 0, the slope for x < 0 (Keras 2: ``alpha``, with a
            DeprecationWarning). Default 0.3, as Keras.
        **kwargs: base layer arguments.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "LeakyReLU: `alpha` is the Keras 2 name; use `negative_slope` instead",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                f"LeakyReLU: negative_slope must be a float >= 0, not None or negative. Received: "
                f"negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope
        self.supports_masking = True

    def call(self, inputs):
        return leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}
