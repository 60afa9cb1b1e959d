"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import warnings

from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from ..layers.symbolic import SymbolicTensor
from .model import Model


class Sequential(Model):
    """A model that runs its layers one after another.

    The first layer may declare the input (``Dense(512, input_shape=(784,))``,
    or an ``ember.Input`` / ``InputLayer`` first); the model is then built at
    once and shape errors show up while adding layers. Otherwise it is built
    from the first data it sees.

    Args:
        layers: a list of layers to add in order.
        name: the model's name.
    """

    _convert_input_args = False  # inputs go to the layers as they come (Keras's graph models); each layer casts

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._tracking = False
        self._input_layer = None
        self._stack = []
        self._tracking = True
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_from_declared_input()

    # ---- composition -------------------------------------------------------
    def add(self, layer, rebuild=True) -> None:
        """Append a layer (or an ``ember.Input``) to the stack."""
        if isinstance(layer, SymbolicTensor) and isinstance(getattr(layer.node, "layer", None), InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `ember.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError(f"Sequential '{self.name}': an InputLayer can only be the first layer")
            self._input_layer = layer
        else:
            if any(existing.name == layer.name for existing in self._stack):
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is "
                    f"already the name of a layer in this model. Update the `name` argument to pass a unique name."
                )
            self._stack.append(layer)
            self._layers.append(layer)
        self.built = False
        if rebuild:
            self._maybe_build_from_declared_input()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._layers.remove(layer)
        self.built = False
        self._maybe_build_from_declared_input()
        return layer

    @property
    def layers(self) -> list:
        return list(self._stack)

    # ---- building ----------------------------------------------------------------
    def _declared_batch_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._input_batch_shape is not None:
            return self._stack[0]._input_batch_shape
        return None

    def _maybe_build_from_declared_input(self) -> None:
        shape = self._declared_batch_shape()
        if shape is not None and self._stack:
            self.build(shape)

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis included, may be None)."""
        if input_shape is None:
            input_shape = self._declared_batch_shape()
        if input_shape is None:
            raise ValueError(f"Sequential '{self.name}': cannot build without an input shape")
        input_shape = tuple(input_shape)
        dtype = self._input_layer.dtype if self._input_layer is not None else _first_layer_input_dtype(self._stack)
        if self._input_layer is None or tuple(self._input_layer.batch_shape) != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=dtype, name=f"{self.name}_input")
        x = self._input_layer.output_tensor
        for layer in self._stack:
            x = _call_symbolic(self, layer, x)
        self._output_tensor = x
        self.built = True

    def _build_for(self, inputs) -> None:
        shape = (None, *tuple(inputs.shape)[1:]) if not isinstance(inputs, (list, tuple, dict)) else None
        if shape is None:
            raise ValueError(f"Sequential '{self.name}' takes a single input, got {type(inputs).__name__}")
        declared = self._declared_batch_shape()
        self.build(declared if declared is not None else shape)

    def call(self, inputs, training=None, mask=None):
        if self._input_layer is not None and hasattr(inputs, "shape"):
            declared = tuple(self._input_layer.batch_shape)
            inputs = adjust_input_rank(inputs, declared)
            first = self._stack[0].name if self._stack else None
            check_input_shape(self.name, declared, tuple(inputs.shape), first)
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training) if "training" in layer._call_signature else layer(x)
        return x

    @property
    def input_shape(self):
        return self._input_layer.batch_shape if self._input_layer is not None else None

    @property
    def output_shape(self):
        return self._output_tensor.shape if self.built else None

    @property
    def inputs(self):
        return [self._input_layer.output_tensor] if self._input_layer is not None else None

    @property
    def outputs(self):
        return [self._output_tensor] if self.built else None

    # ---- Keras 2 leftovers the seeds use -------------------------------------------
    def predict_classes(self, x, batch_size=32, verbose=0):
        """Keras 2's class predictions: argmax, or a 0.5 threshold for one sigmoid output.

        Deprecated: use ``numpy.argmax(model.predict(x), axis=-1)`` (softmax) or
        ``(model.predict(x) > 0.5).astype("int32")`` (sigmoid).
        """
        warnings.warn(
            "`Sequential.predict_classes` is the Keras 2 API; use `np.argmax(model.predict(x), axis=-1)` "
            "(or `(model.predict(x) > 0.5).astype('int32')` for one sigmoid output)",
            DeprecationWarning,
            stacklevel=2,
        )
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        for layer in self._stack:
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
        config["layers"] = layers
        return config


def _first_layer_input_dtype(stack):
    if stack and type(stack[0]).__name__ == "Embedding":
        return "int32"
    return None


def _call_symbolic(model, layer, x):
    """Call ``layer`` on symbolic ``x`` while building ``model``, naming the model in errors."""
    try:
        return layer(x)
    except ValueError as err:
        raise ValueError(
            f"Sequential model '{model.name}': layer '{layer.name}' cannot take input of shape {x.shape}: {err}"
        ) from None


def adjust_input_rank(x, declared: tuple):
    """Keras's one-axis leniency for a declared input shape ending in 1.

    Data of shape ``(batch,)`` given to an input declared ``(None, 1)`` gets
    its last axis added (``xs = np.array([...])`` for ``input_shape=[1]``), and
    data ``(batch, ..., 1)`` given to an input declared one axis shorter loses
    it. Any other rank is left for :func:`check_input_shape` to report.
    """
    from ..ops import expand_dims, squeeze

    rank, want = len(x.shape), len(declared)
    if rank == want - 1 and want >= 2 and declared[-1] == 1:
        return expand_dims(x, -1)
    if rank == want + 1 and rank >= 2 and x.shape[-1] == 1:
        return squeeze(x, -1)
    return x


def check_input_shape(model_name: str, declared: tuple, actual: tuple, first_layer: str | None = None) -> None:
    """Compare a batch's shape with the declared input shape; explain the batch-axis mistake.

    Raises:
        ValueError: naming the first layer (and the model), the declared and the received shape.
    """
    fits = len(declared) == len(actual) and all(d is None or d == a for d, a in zip(declared, actual))
    if fits:
        return
    where = (
        f'layer "{first_layer}" (the first layer of Sequential model "{model_name}")'
        if first_layer
        else (f'layer "{model_name}"')
    )
    message = f"Input 0 of {where} is incompatible with the layer: expected shape={declared}, found shape={actual}."
    if len(actual) == len(declared) - 1 and tuple(declared[2:]) == tuple(actual[1:]):
        message += (
            f" `input_shape` is the shape of ONE sample, without the batch axis: the model was declared "
            f"with input_shape={tuple(declared[1:])}, which includes {declared[1]} (a batch size or a number of "
            f"samples?). For samples of shape {tuple(actual[1:])}, pass input_shape={tuple(actual[1:])}."
        )
    elif len(actual) == len(declared) + 1:
        message += " The input has one axis more than declared: did `input_shape` leave out an axis of each sample?"
    raise ValueError(message)
