"""``GaussianNoise``: add zero-mean Gaussian noise while training."""

from __future__ import annotations

import numbers

from ...engine import random
from ..activations._mask import passthrough_mask
from ..layer import Layer
from ._seed import layer_generator


class GaussianNoise(Layer):
    """Add N(0, stddev**2) noise to every input while training; pass through at inference.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        stddev: float in [0, 1], the standard deviation of the noise.
        seed: an int for a layer-owned generator, or None (process-wide generator).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: a float tensor.
        training: True to add noise.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not 0 <= stddev <= 1:
            raise ValueError(
                f"GaussianNoise: invalid value for argument `stddev`, expected a float between 0 and 1. "
                f"Received: stddev={stddev}"
            )
        self.stddev = stddev
        self.seed = seed
        self._generator = layer_generator("GaussianNoise", seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = random.normal(
            inputs.shape, mean=0.0, stddev=self.stddev, dtype=inputs.dtype, seed=self._generator, device=inputs.device
        )
        return inputs + noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
