"""Which converter handles which layer class: ``register`` and ``converter_for``.

A converter is a function ``convert(ctx, layer, inputs, in_shapes, out_shapes)``
that adds ONNX nodes to ``ctx`` (a :class:`~ember.onnx.context.GraphContext`)
and returns the names of its outputs. ``inputs`` are ONNX tensor names,
``in_shapes``/``out_shapes`` the Keras shapes of the layer's inputs and
outputs (batch axis first, ``None`` where unknown).
"""

from __future__ import annotations

_CONVERTERS: dict = {}


class UnsupportedLayerError(NotImplementedError):
    """A layer (or an option of one) that ONNX export cannot express yet."""


def register(*class_names):
    """Decorator: use the function for layers whose class (or a base class) is named in ``class_names``."""

    def wrap(fn):
        for name in class_names:
            _CONVERTERS[name] = fn
        return fn

    return wrap


def converter_for(layer):
    """The converter for ``layer``, looked up by its class and then its base classes.

    Raises:
        UnsupportedLayerError: no converter exists; the message names the layer and its class.
    """
    for cls in type(layer).__mro__:
        fn = _CONVERTERS.get(cls.__name__)
        if fn is not None:
            return fn
    raise UnsupportedLayerError(
        f"ONNX export: layer '{layer.name}' of class {type(layer).__name__} is not supported; supported classes: "
        f"{', '.join(sorted(_CONVERTERS))}"
    )
