"""``Lambda`` wraps a function of tensors as a layer; ``TensorOp`` is the layer behind ``x + y`` on symbolic tensors."""

from __future__ import annotations

import base64
import importlib
import inspect
import marshal
import types

import numpy

from ...engine.tensor import Tensor
from ..layer import Layer
from ..symbolic import SymbolicTensor, flatten, pack_like

_FUNCTION_SHAPE_KEYS = ("class_name", "config")


class Lambda(Layer):
    """Apply ``function(inputs, **arguments)``, a function written with Ember ops, as a layer.

    Shapes: whatever ``function`` returns. ``output_shape`` (without the batch
    axis, or a callable from the input shape with it) says it to the
    functional API without running ``function``; by default the shape is
    found by running ``function`` on stand-in data.

    Args:
        function: a callable taking the inputs (a tensor or a list of tensors);
            if it has a ``mask`` or ``training`` parameter, those are passed too.
        output_shape: None, a tuple (batch axis excluded), or a callable
            ``input_shape -> output_shape``.
        mask: None (the output has no mask), a tensor (the output mask), or a
            callable ``(inputs, previous_mask) -> mask``.
        arguments: a dict of keyword arguments for ``function``.
        **kwargs: base layer arguments.

    Note: a Lambda holding a Python ``lambda`` serializes its bytecode, which
    only loads back under the same Python version and with
    ``from_config(..., safe_mode=False)``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {function!r}")
        self.arguments = dict(arguments or {})
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = flatten(_shape_leaves(input_shape))[0] if input_shape else None
        return _map_shapes(lambda s: (batch, *s), self._output_shape)

    def _infer_output_specs(self, inputs, rest, kwargs):
        # a declared output_shape wins over running the function on stand-ins, as in Keras
        if self._output_shape is None:
            return super()._infer_output_specs(inputs, rest, kwargs)
        in_shapes = pack_like(inputs, [t.shape for t in flatten(inputs)])
        shapes = self.compute_output_shape(in_shapes)
        count = len(_flat_shapes(shapes))
        dtype = next((t.dtype for t in flatten(inputs) if isinstance(t, SymbolicTensor)), numpy.dtype(self.dtype))
        return shapes, [dtype] * count

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self) -> dict:
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = _serialize_function(shape) if callable(shape) else shape
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = dict(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuild a Lambda; Python lambdas (bytecode) load only with ``safe_mode=False``."""
        config = dict(config)
        unsafe_ok = safe_mode is False
        config["function"] = _deserialize_function(config["function"], custom_objects, unsafe_ok)
        for key in ("output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and all(k in value for k in _FUNCTION_SHAPE_KEYS):
                config[key] = _deserialize_function(value, custom_objects, unsafe_ok)
            elif key == "output_shape" and isinstance(value, list):
                config[key] = tuple(value)
        return cls(**config)


class TensorOp(Layer):
    """An anonymous layer computing ``fn(*operands)``: what ``x + y``, ``-x`` or ``x[:, 0]`` on symbolic tensors become.

    Called on a list of operands: tensors (symbolic or concrete) and constants
    (Python numbers, NumPy arrays). The constants are kept by the layer, so
    the functional graph records only the tensors and the model replays
    ``fn`` with the same constants in the same places.

    Args:
        fn: a callable taking the operands in order and returning a tensor.
        **kwargs: base layer arguments (``name``).
    """

    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        if not callable(fn):
            raise TypeError(f"TensorOp: `fn` must be callable, got {fn!r}")
        self.fn = fn
        self.supports_masking = False
        self._template = None  # per operand: ("tensor", k) or ("constant", value)

    def __call__(self, operands, *args, **kwargs):
        operands = list(operands) if isinstance(operands, (list, tuple)) else [operands]
        n_tensors = None if self._template is None else sum(1 for kind, _ in self._template if kind == "tensor")
        if not (n_tensors == len(operands) and all(_is_tensor(x) for x in operands)):
            template, tensors = [], []
            for x in operands:
                if _is_tensor(x):
                    template.append(("tensor", len(tensors)))
                    tensors.append(x)
                else:
                    template.append(("constant", x))
            if not tensors:
                raise TypeError(f"TensorOp '{self.name}': expected at least one tensor among the operands {operands!r}")
            self._template = template
            operands = tensors
        return super().__call__(operands, *args, **kwargs)

    def call(self, inputs):
        values = [inputs[v] if kind == "tensor" else v for kind, v in self._template]
        return self.fn(*values)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": _serialize_function(self.fn)}


# ---- helpers ---------------------------------------------------------------------------------------------------------


def _is_tensor(x) -> bool:
    return isinstance(x, (Tensor, SymbolicTensor))


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def _shape_leaves(shapes):
    return [tuple(shapes)] if _is_shape(shapes) else [x for s in shapes for x in _shape_leaves(s)]


def _flat_shapes(shapes):
    return _shape_leaves(shapes)


def _map_shapes(fn, shapes):
    if _is_shape(shapes):
        return fn(tuple(shapes))
    return type(shapes)(_map_shapes(fn, s) for s in shapes)


def _serialize_function(fn):
    """A configuration for ``fn``: bytecode for a Python lambda, module and name for a named function."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    name = getattr(fn, "__name__", None)
    if name is None:
        raise ValueError(f"Lambda: cannot serialize {fn!r} of type {type(fn).__name__}: expected a function")
    return {
        "module": getattr(fn, "__module__", None),
        "class_name": "function",
        "config": name,
        "registered_name": name,
    }


def _deserialize_function(config, custom_objects, unsafe_ok):
    if callable(config):
        return config
    if isinstance(config, str):
        config = {"class_name": "function", "config": config, "module": None}
    if config.get("class_name") == "__lambda__":
        if not unsafe_ok:
            raise ValueError(
                "Lambda.from_config: the configuration holds a Python lambda (bytecode), and loading it could run "
                "arbitrary code. If you trust its source, pass safe_mode=False."
            )
        inner = config["config"]
        code = marshal.loads(base64.decodebytes(inner["code"].encode("ascii")))
        defaults = tuple(inner["defaults"]) if inner.get("defaults") is not None else None
        closure = tuple(_cell(v) for v in inner["closure"]) if inner.get("closure") is not None else None
        return types.FunctionType(code, globals(), code.co_name, defaults, closure)
    name, module = config.get("config"), config.get("module")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module and not module.startswith("keras"):
        from ...saving.serialization import UnsafeDeserializationError, _own_namespace

        if not unsafe_ok and not _own_namespace(module):  # importing a module runs it: only by the user's choice
            raise UnsafeDeserializationError(
                f"Lambda.from_config: the function {name!r} comes from module {module!r}, and importing a module "
                "named by a configuration runs its code. Pass it in custom_objects, or safe_mode=False if you "
                "trust the configuration."
            )
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            pass
    from ... import activations

    try:
        return activations.get(name)
    except (ValueError, TypeError):
        pass
    raise ValueError(
        f"Lambda.from_config: could not find the function {name!r} (module {module!r}); pass custom_objects"
    )


def _cell(value):
    return (lambda: value).__closure__[0]
