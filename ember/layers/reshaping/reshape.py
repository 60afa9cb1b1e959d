"""``Reshape``: each sample given a new shape holding the same values."""

from __future__ import annotations

import math

from ...ops import reshape
from ..layer import Layer


class Reshape(Layer):
    """Give each sample the shape ``target_shape`` (the batch axis is kept).

    Shapes: (batch, *in_shape) -> (batch, *target_shape), where the product of the sizes
    is unchanged; one entry of ``target_shape`` may be -1, inferred from the others.

    Args:
        target_shape: the new shape of one sample (a tuple of ints, without the batch axis).

    Returns (when called):
        A tensor of shape (batch, *target_shape).

    Example:
        >>> ember.layers.Reshape((4, 3))(ember.ones((2, 12))).shape
        (2, 4, 3)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"Reshape: `target_shape` must be a tuple of integers, received target_shape={target_shape!r}"
            ) from None
        if sum(d == -1 for d in target_shape) > 1 or any(d == 0 or d < -1 for d in target_shape):
            raise ValueError(
                "Reshape: `target_shape` must hold positive sizes and at most one -1, "
                f"received target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self.built = True

    def _resolve(self, sample_shape) -> tuple:
        """``target_shape`` for one sample of ``sample_shape``, -1 filled in (None where unknown)."""
        known = [d for d in self.target_shape if d != -1]
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(sample_shape)
        if -1 in self.target_shape:
            if math.prod(known) == 0 or size % math.prod(known):
                raise ValueError(self._mismatch(sample_shape))
            return tuple(size // math.prod(known) if d == -1 else d for d in self.target_shape)
        if size != math.prod(known):
            raise ValueError(self._mismatch(sample_shape))
        return self.target_shape

    def _mismatch(self, sample_shape) -> str:
        return (
            f"Reshape '{self.name}': cannot reshape samples of shape {tuple(sample_shape)} "
            f"({math.prod(sample_shape)} values) into target_shape={self.target_shape}; "
            "the number of values per sample must stay the same"
        )

    def call(self, inputs):
        return reshape(inputs, (inputs.shape[0], *self._resolve(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], *self._resolve(input_shape[1:]))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}
