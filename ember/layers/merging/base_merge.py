"""``Merge``: the base of the layers that combine a list of tensors elementwise (Add, Multiply, ...)."""

from __future__ import annotations

from ...engine.tensor import Tensor
from ...ops import any as reduce_any
from ...ops import broadcast_to, expand_dims, logical_or, where
from ..layer import Layer


def keras_mask(x):
    """The mask an earlier layer attached to ``x`` (None when there is none)."""
    return getattr(x, "_keras_mask", None)


def as_bool_tensor(mask, device=None):
    """``mask`` as a boolean Tensor (masks may arrive as arrays or tensors)."""
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, device=device)
    return mask if mask.dtype == bool else mask.astype(bool)


def mask_like(mask, x):
    """A (batch, ...) mask broadcast over the last axis of ``x``: shape of ``x``, boolean."""
    return broadcast_to(expand_dims(as_bool_tensor(mask, x.device), -1), x.shape)


def set_keras_mask(x, mask) -> None:
    """Attach ``mask`` to ``x`` as the layers' mask travels (Keras's ``set_keras_mask``)."""
    x._keras_mask = mask


class Merge(Layer):
    """A layer called on a list of tensors of compatible shapes, combining them into one.

    Inputs of different ranks are aligned as Keras does: the lower-rank ones get
    size-1 axes inserted after the batch axis, then shapes broadcast (sizes
    equal or 1). The batch sizes must agree.

    Masks: the output mask is the logical OR of the input masks when every
    input has one, else there is none.

    Subclasses implement ``_merge_function(inputs)``.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _kind(self) -> str:
        return type(self).__name__

    # ---- shapes -------------------------------------------------------------------
    def _elementwise_shape(self, shape1, shape2):
        """The broadcast of two shapes without their batch axes, aligned on the right; ValueError when they clash."""
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._elementwise_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        out = list(shape1[: -len(shape2)])
        for i, j in zip(shape1[-len(shape2) :], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1 or i == j:
                out.append(i)
            else:
                raise ValueError(
                    f"{self._kind()} '{self.name}': inputs have incompatible shapes. Received shapes {shape1} and "
                    f"{shape2}"
                )
        return tuple(out)

    def _check_list(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(
                f"A merge layer ({self._kind()} '{self.name}') should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )

    def build(self, input_shape):
        self._check_list(input_shape)
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"{self._kind()} '{self.name}': cannot merge tensors with different batch sizes. Received tensors "
                f"with shapes {list(input_shape)}"
            )
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._elementwise_shape(output_shape, tuple(shape[1:]))
        self._reshape_required = len({len(s) for s in input_shape}) != 1
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._elementwise_shape(output_shape, tuple(shape[1:]))
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return (batch, *output_shape)

    # ---- call ------------------------------------------------------------------------
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({self._kind()} '{self.name}') should be called on a list of inputs. "
                f"Received: inputs={inputs!r} (not a list of tensors)"
            )
        inputs = list(inputs)
        if self._reshape_required:
            max_ndim = max(x.ndim for x in inputs)
            aligned = []
            for x in inputs:
                for _ in range(max_ndim - x.ndim):
                    x = expand_dims(x, 1)  # the expanded tensor carries no mask, as in Keras
                aligned.append(x)
            inputs = aligned
        return self._merge_function(inputs)

    def _apply_merge_op_and_or_mask(self, op, inputs):
        """Fold ``op`` over the inputs; where an input is masked, the other operand's value is used instead.

        When every input has a mask, the output gets the OR of the masks
        (reduced over the last axis) as its own mask, as Keras's Maximum and
        Minimum do.
        """
        output = output_mask = None
        for x in inputs:
            mask = keras_mask(x)
            if mask is not None:
                mask = mask_like(mask, x)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = where(mask, x, output)
            if output_mask is not None:
                output = where(output_mask, output, x)
            output_mask = logical_or(output_mask, mask) if mask is not None and output_mask is not None else None
            output = op(output, x)
        if output_mask is not None:
            set_keras_mask(output, reduce_any(output_mask, axis=-1))
        return output

    # ---- masks -----------------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        """The OR of the input masks, or None when any input has none.

        ``mask`` defaults to the masks attached to ``inputs`` (what Keras's
        ``__call__`` passes as the previous mask).
        """
        mask = _input_masks(self, inputs, mask)
        if mask is None or any(m is None for m in mask):
            return None
        device = inputs[0].device if isinstance(inputs[0], Tensor) else None
        output = as_bool_tensor(mask[0], device)
        for m in mask[1:]:
            output = logical_or(output, as_bool_tensor(m, device))
        return output


def _input_masks(layer, inputs, mask):
    """``mask`` checked against ``inputs`` (both lists), or the masks attached to the inputs when None."""
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': `inputs` should be a list. Received: inputs={inputs!r}"
        )
    if mask is None:
        mask = [keras_mask(x) for x in inputs]
        return None if all(m is None for m in mask) else mask
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': `mask` should be a list. Received: mask={mask!r}")
    if len(mask) != len(inputs):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': the lists `inputs` and `mask` should have the same length. "
            f"Received {len(inputs)} inputs and {len(mask)} masks"
        )
    return list(mask)
