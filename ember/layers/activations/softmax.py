"""``Softmax``: the softmax over one axis or several, with an optional mask of positions to ignore."""

from __future__ import annotations

from ...engine.tensor import Tensor
from ...ops import greater, softmax, where
from ..layer import Layer
from ._mask import passthrough_mask


def _large_negative(dtype) -> float:
    """A logit small enough to vanish under softmax yet finite in ``dtype`` (Keras's values)."""
    return -3e4 if str(dtype) == "float16" else -1e9


class Softmax(Layer):
    """Softmax activation layer.

    Shapes: inputs (batch, ...) -> outputs of the same shape, summing to 1 over ``axis``.

    Args:
        axis: an int, or a list/tuple of ints, the axes normalised over. Default -1.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: the logits.
        mask: optional, broadcastable to ``inputs`` (same rank or fewer axes,
            each of size 1 or the input's size); True (or > 0.5) keeps a
            position, False gives it probability 0. By default the mask
            attached to ``inputs`` by an earlier layer.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._check_mask(inputs, mask)
            inputs = where(mask, inputs, _large_negative(inputs.dtype))
        axis = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        outputs = softmax(inputs, axis=axis)
        if mask is not None:
            outputs = where(mask, outputs, 0.0)
        return outputs

    def _check_mask(self, inputs, mask):
        if not isinstance(mask, Tensor):
            mask = Tensor(mask, device=inputs.device)
        m_shape, x_shape = tuple(mask.shape), tuple(inputs.shape)
        if len(m_shape) > len(x_shape):
            raise ValueError(
                f"Softmax '{self.name}': the mask must be broadcastable to the inputs and have no more axes. "
                f"Received: inputs.shape={x_shape}, mask.shape={m_shape}"
            )
        for m, x in zip(m_shape[::-1], x_shape[::-1]):
            if m != 1 and m != x:
                raise ValueError(
                    f"Softmax '{self.name}': the mask must be broadcastable to the inputs; each mask axis must be 1 "
                    f"or the input's size. Received: inputs.shape={x_shape}, mask.shape={m_shape}"
                )
        if mask.dtype != bool:
            mask = greater(mask, 0.5)
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
