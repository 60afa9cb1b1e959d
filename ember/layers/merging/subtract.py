"""``Subtract``: the difference of two tensors."""

from __future__ import annotations

from .base_merge import Merge


class Subtract(Merge):
    """Subtract the second of two tensors from the first: ``inputs[0] - inputs[1]``.

    Shapes: a list of exactly two tensors (batch, ...) of broadcast-compatible shapes
    -> one tensor of their broadcast shape.

    Args:
        **kwargs: base layer arguments.
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f"A `Subtract` layer ('{self.name}') should be called on exactly 2 inputs. "
                f"Received: input_shape={list(input_shape)}"
            )

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                f"A `Subtract` layer ('{self.name}') should be called on exactly 2 inputs. "
                f"Received {len(inputs)} inputs"
            )
        return inputs[0] - inputs[1]


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`: ``Subtract(**kwargs)(inputs)``.

    Args:
        inputs: a list of tensors.
        **kwargs: arguments of the layer (``name``, ...).

    Returns:
        The merged tensor.
    """
    return Subtract(**kwargs)(inputs)
