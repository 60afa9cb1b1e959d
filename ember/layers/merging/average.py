"""``Average``: the elementwise mean of a list of tensors."""

from __future__ import annotations

from .base_merge import Merge


class Average(Merge):
    """Average a list of tensors elementwise.

    Shapes: a list of tensors (batch, ...) of broadcast-compatible shapes -> one tensor of
    their broadcast shape (lower-rank inputs get size-1 axes after the batch axis).

    Args:
        **kwargs: base layer arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`: ``Average(**kwargs)(inputs)``.

    Args:
        inputs: a list of tensors.
        **kwargs: arguments of the layer (``name``, ...).

    Returns:
        The merged tensor.
    """
    return Average(**kwargs)(inputs)
