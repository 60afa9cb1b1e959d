"""``Minimum``: the elementwise minimum of a list of tensors."""

from __future__ import annotations

from ... import ops
from .base_merge import Merge


class Minimum(Merge):
    """The elementwise minimum of a list of tensors.

    Masked entries of an input (its mask broadcast over the last axis) take the
    other operand's value, so they never win; when every input is masked the
    output mask is the OR of the masks.

    Shapes: a list of tensors (batch, ...) of broadcast-compatible shapes -> one tensor of
    their broadcast shape (lower-rank inputs get size-1 axes after the batch axis).

    Args:
        **kwargs: base layer arguments.
    """

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(ops.minimum, inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`: ``Minimum(**kwargs)(inputs)``.

    Args:
        inputs: a list of tensors.
        **kwargs: arguments of the layer (``name``, ...).

    Returns:
        The merged tensor.
    """
    return Minimum(**kwargs)(inputs)
