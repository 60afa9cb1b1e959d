"""``Multiply``: the elementwise product of a list of tensors."""

from __future__ import annotations

from ...ops import any as reduce_any
from ...ops import logical_or, where
from .base_merge import Merge, keras_mask, mask_like, set_keras_mask


class Multiply(Merge):
    """Multiply a list of tensors elementwise.

    Masked entries of an input (its mask broadcast over the last axis) count
    as 1; when every input is masked, positions masked out in all of them are
    0 and the output mask is the OR of the masks.

    Shapes: a list of tensors (batch, ...) of broadcast-compatible shapes -> one tensor of
    their broadcast shape (lower-rank inputs get size-1 axes after the batch axis).

    Args:
        **kwargs: base layer arguments.
    """

    def _merge_function(self, inputs):
        masks = [keras_mask(x) for x in inputs]
        all_masked = all(m is not None for m in masks)
        output = output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = mask_like(mask, x)
                x = where(mask, x, 1.0)
                if all_masked:
                    output_mask = mask if output_mask is None else logical_or(output_mask, mask)
            output = x if output is None else output * x
        if all_masked:
            output = where(output_mask, output, 0.0)
            set_keras_mask(output, reduce_any(output_mask, axis=-1))
        return output


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`: ``Multiply(**kwargs)(inputs)``.

    Args:
        inputs: a list of tensors.
        **kwargs: arguments of the layer (``name``, ...).

    Returns:
        The merged tensor.
    """
    return Multiply(**kwargs)(inputs)
