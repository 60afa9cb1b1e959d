"""``keras.ops`` functions applied to symbolic tensors build layers, as Keras's ops do on KerasTensors.

In a functional model (``x = ember.Input(...)``) Keras programs write
``y = keras.ops.expand_dims(x, -1)`` or ``keras.ops.mean(x, axis=1)``. Each
``keras.ops`` function exported by ``ember.ops`` is wrapped here: called with a
symbolic tensor among its arguments (directly, or inside a list/tuple such as
``concatenate([a, b])``, or as a keyword), it returns the output of an
anonymous :class:`~ember.layers.core.lambda_layer.TensorOp` layer that replays
the function on real tensors when the model runs; called on anything else, it
is the function itself (one check of the arguments' types, and none at all
until ``ember.layers`` has been imported, since only it makes symbolic tensors).

This module is imported last by ``ember/ops/__init__.py`` and reads the
functions it wraps from that package, so it wraps whatever ``ember.ops``
exports under each Keras name.
"""

from __future__ import annotations

import builtins
import functools
import sys

from . import linalg as _linalg
from . import nn as _nn
from . import numpy as _numpy

# keras.ops names outside keras.ops.nn/numpy/linalg that take tensors
_CORE = (
    "cast",
    "cdist",
    "erf",
    "erfc",
    "erfinv",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "in_top_k",
    "irfft",
    "istft",
    "logdet",
    "logsumexp",
    "rearrange",
    "rfft",
    "rsqrt",
    "saturate_cast",
    "scatter",
    "scatter_update",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "slice",
    "slice_update",
    "stft",
    "stop_gradient",
    "top_k",
    "unstack",
)
# names that inspect their argument (a symbolic tensor answers them itself) or run Python control flow
_NOT_WRAPPED = {"shape", "ndim", "size", "dtype", "is_tensor", "convert_to_numpy", "convert_to_tensor", "vectorize"}


_SYMBOLIC = []  # SymbolicTensor, once ember.layers.symbolic has been imported


def _symbolic_class():
    if _SYMBOLIC:
        return _SYMBOLIC[0]
    module = sys.modules.get("ember.layers.symbolic")
    if module is None:
        return None
    _SYMBOLIC.append(module.SymbolicTensor)
    return module.SymbolicTensor


def _has_symbolic(symbolic, values) -> bool:
    # plain loops: this runs on every ops call once ember.layers is loaded, so it is kept cheap
    for v in values:
        kind = type(v)
        if kind is symbolic:
            return True
        if kind is list or kind is tuple:
            for u in v:
                if type(u) is symbolic:
                    return True
    return False


def symbolic_aware(fn):
    """``fn`` that, given a symbolic tensor, returns a TensorOp layer's output instead of computing."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _SYMBOLIC or _symbolic_class() is not None:
            symbolic = _SYMBOLIC[0]
            for v in args:  # inlined: this runs on every call once ember.layers is loaded
                kind = type(v)
                if kind is symbolic or ((kind is list or kind is tuple) and _has_symbolic(symbolic, v)):
                    return _layer_call(fn, symbolic, args, kwargs)
            if kwargs and _has_symbolic(symbolic, kwargs.values()):
                return _layer_call(fn, symbolic, args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__ember_symbolic_aware__ = True
    return wrapper


class _Constant:
    """A concrete tensor among a symbolic call's operands: kept by the layer, not made a graph input."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _layer_call(fn, symbolic, args, kwargs):
    """Run ``fn`` as a TensorOp over the flattened operands (one level of lists/tuples opened)."""
    from ..engine.tensor import Tensor
    from ..layers.core.lambda_layer import TensorOp

    operands = []

    def keep(value):
        return _Constant(value) if isinstance(value, Tensor) else value

    def take(value):
        if type(value) in (list, tuple) and builtins.any(type(u) is symbolic for u in value):
            plan_item = ("seq", type(value), len(operands), len(value))
            operands.extend(keep(u) for u in value)
            return plan_item
        operands.append(keep(value))
        return ("one", len(operands) - 1)

    arg_plan = [take(a) for a in args]
    kw_plan = {k: take(v) for k, v in kwargs.items()}

    def unwrap(v):
        return v.value if isinstance(v, _Constant) else v

    def rebuild(item, values):
        if item[0] == "one":
            return unwrap(values[item[1]])
        _, kind, start, n = item
        return kind(unwrap(v) for v in values[start : start + n])

    def replay(*values):
        return fn(*[rebuild(p, values) for p in arg_plan], **{k: rebuild(p, values) for k, p in kw_plan.items()})

    replay.__name__ = getattr(fn, "__name__", "op")
    return TensorOp(replay, name=_layer_name(replay.__name__))(operands)


def _layer_name(op_name):
    from ..backend.keras_api import get_uid

    uid = get_uid(op_name)
    return op_name if uid == 1 else f"{op_name}_{uid - 1}"


def _names():
    names = set(_nn.__all__) | set(_numpy.__all__) | set(_linalg.__all__) | set(_CORE)
    return sorted(names - _NOT_WRAPPED)


def _wrap_package_functions():
    package = sys.modules[__package__]
    wrapped = {}
    for name in _names():
        fn = getattr(package, name, None)
        if fn is None or not callable(fn) or getattr(fn, "__ember_symbolic_aware__", False):
            continue
        wrapped[name] = symbolic_aware(fn)
    return wrapped


# the wrapped functions become this module's globals (``any``, ``max``, ``round``... among them: the code above
# reaches Python's own through ``builtins``)
globals().update(_wrap_package_functions())
__all__ = sorted(n for n in _names() if n in globals())
