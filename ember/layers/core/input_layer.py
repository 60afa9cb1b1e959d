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
        input_tensor = kwargs.pop("input_tensor", None)
        shape = shape if shape is not None else legacy
        batch_shape = batch_shape if batch_shape is not None else legacy_batch
        if input_tensor is not None:
            batch_shape, dtype = _from_input_tensor(input_tensor, shape, batch_size, batch_shape, dtype)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: pass shape= (one sample, without the batch axis) or batch_shape=")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        self.batch_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        self.built = True
        if input_tensor is None:
            input_tensor = SymbolicTensor(self.batch_shape, _dtype_name(dtype), name=self.name)
        # as Keras: a given symbolic tensor becomes this layer's output (a model may start from it)
        self.output_tensor = input_tensor
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
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
    )
    return layer.output_tensor


def _from_input_tensor(tensor, shape, batch_size, batch_shape, dtype):
    """The batch shape and dtype of ``Input(tensor=...)``, checked against the other arguments as Keras does."""
    if not isinstance(tensor, SymbolicTensor):
        raise ValueError(
            f"Input(tensor=...): expected a symbolic tensor (from ember.Input or a layer called on one), got "
            f"{type(tensor).__name__}; as in Keras 3, concrete data is passed to the model when it is called"
        )
    if batch_size is not None and (not tensor.shape or tensor.shape[0] != batch_size):
        raise ValueError(f"Input(tensor=...): batch_size={batch_size} does not match the tensor's shape {tensor.shape}")
    if shape is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if shape != tensor.shape[1:]:
            raise ValueError(f"Input(tensor=...): shape={shape} does not match the tensor's shape {tensor.shape}")
    if batch_shape is not None and tuple(batch_shape) != tensor.shape:
        raise ValueError(
            f"Input(tensor=...): batch_shape={tuple(batch_shape)} does not match the tensor's shape {tensor.shape}"
        )
    if dtype is not None and _dtype_name(dtype) != tensor.dtype.name:
        raise ValueError(f"Input(tensor=...): dtype={dtype} does not match the tensor's dtype {tensor.dtype.name}")
    return tensor.shape, tensor.dtype.name
