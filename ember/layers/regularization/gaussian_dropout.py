"""``GaussianDropout``: multiply by 1-centred Gaussian noise while training."""

from __future__ import annotations

import math

from ...engine import random
from ..activations._mask import passthrough_mask
from ..layer import Layer
from ._seed import layer_generator
from .dropout import check_rate


class GaussianDropout(Layer):
    """Multiply every input by noise from N(1, rate / (1 - rate)) while training.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        rate: float in [0, 1], the drop probability it mimics; the noise has
            standard deviation ``sqrt(rate / (1 - rate))``.
        seed: an int for a layer-owned generator, or None (process-wide generator).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: a float tensor.
        training: True to apply the noise.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("GaussianDropout", rate)
        self.seed = seed
        self._generator = layer_generator("GaussianDropout", seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate)) if self.rate < 1 else math.inf
        noise = random.normal(
            inputs.shape, mean=1.0, stddev=stddev, dtype=inputs.dtype, seed=self._generator, device=inputs.device
        )
        return inputs * noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
