"""``Input`` and ``InputLayer``: the symbolic entry points of a functional model."""

from __future__ import annotations

from ..layer import Layer, _dtype_name
from ..symbolic import Node, SymbolicTensor


class InputLayer(Layer):
    """The layer behind ``ember.Input``: it has no weights and passes its input through.

    Args:
        shape: the shape of one sample, without the batch axis (``(784,)``).
        batch_size: a fixed batch size, or None.
        dtype: the input's dtype (default floatx()).
        batch_shape: the full shape including the batch axis (instead of shape/batch_size).
        name: the layer's name.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, **kwargs):
        legacy = kwargs.pop("input_shape", None)
        legacy_batch = kwargs.pop("batch_input_shape", None)
        kwargs.pop("input_tensor", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        shape = shape if shape is not None else legacy
        batch_shape = batch_shape if batch_shape is not None else legacy_batch
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: pass shape= (one sample, without the batch axis) or batch_shape=")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        self.batch_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        self.built = True
        self.output_tensor = SymbolicTensor(self.batch_shape, _dtype_name(dtype), name=self.name)
        Node(self, [], {}, self.output_tensor)

    def call(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):  # noqa: N802
    """A symbolic input for a functional model: ``x = ember.Input(shape=(784,))``.

    Returns:
        a :class:`SymbolicTensor` of shape ``(batch_size, *shape)``.
    """
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape, name=name
    )
    return layer.output_tensor
