"""``RMSNormalization``: ``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis`` (Zhang & Sennrich, 2019)."""

from __future__ import annotations

from ...ops import mean, reshape, rsqrt, square
from ..layer import Layer


class RMSNormalization(Layer):
    """Root-mean-square normalization, as ``keras.layers.RMSNormalization``.

    Shapes: outputs like inputs. Weights: scale, shaped by the input's sizes along ``axis``.

    Args:
        axis: an int or a list of ints (-1); held as a sorted list after build.
        epsilon: added to the mean square (1e-6).
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[a] for a in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, inputs):
        axes = tuple(self.axis)
        normed = inputs * rsqrt(mean(square(inputs), axis=axes, keepdims=True) + self.epsilon)
        ndim = inputs.ndim
        shape = [1] * ndim
        for a, size in zip(axes, self.scale.shape):
            shape[a % ndim] = size
        return normed * reshape(self.scale, tuple(shape))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
