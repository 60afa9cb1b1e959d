"""``Permute``: the non-batch axes of each sample reordered."""

from __future__ import annotations

from ...ops import transpose
from ..input_spec import InputSpec
from ..layer import Layer


class Permute(Layer):
    """Reorder the axes of each sample; ``dims`` counts from 1 (the batch axis stays first).

    Shapes: (batch, d1, ..., dk) -> (batch, d_dims[0], ..., d_dims[k-1]).

    Args:
        dims: a permutation of 1..k, e.g. ``(2, 1)`` swaps the two axes of each sample.

    Returns (when called):
        A tensor with the axes reordered.

    Example:
        >>> ember.layers.Permute((2, 1))(ember.ones((5, 10, 64))).shape
        (5, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Permute: `dims` must be a permutation of 1, ..., k (the batch axis 0 is not part of it), "
                f"received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)
        self.built = True

    def call(self, inputs):
        return transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}
