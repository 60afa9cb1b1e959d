"""``Concatenate``: join a list of tensors along one axis."""

from __future__ import annotations

from ...engine.creation import ones_like
from ...engine.tensor import Tensor
from ...ops import any as reduce_any
from ...ops import broadcast_to, expand_dims
from ...ops import concatenate as concat
from .base_merge import Merge, _input_masks, as_bool_tensor


class Concatenate(Merge):
    """Concatenate a list of tensors along ``axis``.

    Shapes: tensors equal in every axis but ``axis`` -> one tensor whose
    ``axis`` size is the sum of theirs.

    Masks: when any input is masked, each input's mask (all True where it has
    none) is broadcast to the input's shape, concatenated, and reduced with
    ``any`` over the last axis, as Keras does.

    Args:
        axis: the axis to join along (default -1).
        **kwargs: base layer arguments.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(
                f"A `Concatenate` layer ('{self.name}') should be called on a list of at least 1 input. "
                f"Received: input_shape={input_shape}"
            )
        ranks = {len(s) for s in input_shape}
        if len(ranks) != 1:
            raise ValueError(self._mismatch(input_shape))
        (rank,) = ranks
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"`Concatenate` layer '{self.name}': axis {self.axis} is out of bounds for inputs of rank {rank}. "
                f"Received: input_shape={list(input_shape)}"
            )
        axis = self.axis % rank
        for i in range(rank):
            if i == axis:
                continue
            sizes = {s[i] for s in input_shape} - {None}
            if len(sizes) > 1:
                raise ValueError(self._mismatch(input_shape))
        self.built = True

    def _mismatch(self, input_shape) -> str:
        return (
            f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes except for the "
            f"concatenation axis (axis={self.axis}). Received: input_shape={list(input_shape)}"
        )

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A `Concatenate` layer ('{self.name}') should be called on a list of inputs. Received: {inputs!r}"
            )
        return concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                f"A `Concatenate` layer should be called on a list of inputs. Received: input_shape={input_shape}"
            )
        output_shape = list(input_shape[0])
        for shape in input_shape[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        mask = _input_masks(self, inputs, mask)
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            device = x.device if isinstance(x, Tensor) else None
            if m is None:
                full.append(ones_like(x, dtype=bool))
            else:
                m = as_bool_tensor(m, device)
                full.append(broadcast_to(expand_dims(m, -1), x.shape) if m.ndim < x.ndim else m)
        return reduce_any(concat(full, axis=self.axis), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of :class:`Concatenate`: ``Concatenate(axis=axis, **kwargs)(inputs)``.

    Args:
        inputs: a list of tensors.
        axis: the axis to join along.
        **kwargs: arguments of the layer.

    Returns:
        The concatenated tensor.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
