"""``RepeatVector``: each input vector repeated ``n`` times along a new axis."""

from __future__ import annotations

from ...ops import expand_dims, repeat
from ..input_spec import InputSpec
from ..layer import Layer


class RepeatVector(Layer):
    """Repeat each sample's feature vector ``n`` times.

    Shapes: (batch, features) -> (batch, n, features). The gradient sums over the copies.

    Args:
        n: the number of copies (a positive int).

    Returns (when called):
        A tensor of shape (batch, n, features).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: `n` must be an integer, received n={n!r} of type {type(n).__name__}")
        if n <= 0:
            raise ValueError(f"RepeatVector: `n` must be a positive integer, received n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self.built = True

    def call(self, inputs):
        return repeat(expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
