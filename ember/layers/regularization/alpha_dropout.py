"""``AlphaDropout``: dropout that keeps the mean and variance of SELU activations."""

from __future__ import annotations

from ...engine.random import uniform
from ..activations._mask import passthrough_mask
from ..layer import Layer
from ._seed import layer_generator
from .dropout import check_rate

_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Alpha dropout (Klambauer et al., 2017), as ``keras.layers.AlphaDropout``.

    While training, each unit is kept with probability ``1 - rate`` and the
    dropped ones are set to SELU's negative saturation ``-alpha * scale``; then
    ``a * x + b`` restores the mean and variance (``a = ((1 - rate) *
    (1 + rate * alpha_p**2)) ** -0.5``, ``b = -a * alpha_p * rate``).
    At inference the inputs pass unchanged.

    Shapes: outputs like inputs. Masks pass through.

    Args:
        rate: the fraction of units dropped, in [0, 1].
        noise_shape: the shape of the keep/drop draw (None entries take the input's size).
        seed: an int for a layer-owned generator, or None for the process-wide one.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("AlphaDropout", rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._generator = layer_generator("AlphaDropout", seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape)
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        alpha_p = -_ALPHA * _SCALE
        kept = (uniform(shape, dtype=inputs.dtype, seed=self._generator).data >= self.rate).astype(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return x * a + b

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}
