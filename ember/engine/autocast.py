"""Keras's ``AutocastScope``: float variables read in a mixed-precision layer's compute dtype.

Under a ``mixed_float16`` policy a layer keeps its variables in float32 and
computes in float16. ``Layer.__call__`` opens an :class:`AutocastScope` with the
layer's compute dtype around ``call``; inside it, every op
(``Function.apply``) that receives a float :class:`~ember.engine.variable.Variable`
of another float dtype gets it through a differentiable cast (``ops.cast``),
so the op runs in float16 and the variable's gradient comes back in float32.
A variable created with ``autocast=False`` (``add_weight(..., autocast=False)``:
BatchNormalization's statistics, as in Keras) is read as it is, and so is any
variable an explicit ``ops.cast`` reads (the cast op is exempt: it states its own dtype).

Cost outside a scope: ``Function.apply`` tests one integer (``function._autocasting``,
the number of scopes open in all threads), as it does for tracing. The scope's dtype
is a ``contextvars`` value, so threads (a data-loading worker) do not see another
thread's scope.
"""

from __future__ import annotations

import contextvars
import threading

import numpy

from . import function as _function

__all__ = ["AutocastScope", "get_autocast_scope"]

_scope = contextvars.ContextVar("ember_autocast_scope", default=None)
_count_lock = threading.Lock()


class AutocastScope:
    """Within the block, float variables read by ops come in ``dtype`` (None: as they are; Keras's clearing scope).

    Args:
        dtype: a float dtype name (``"float16"``) or None.
    """

    def __init__(self, dtype):
        self.dtype = None if dtype is None else numpy.dtype(dtype)
        if self.dtype is not None and self.dtype.kind != "f":
            raise ValueError(f"AutocastScope: expected a float dtype or None, got {dtype!r}")
        self._token = None

    def maybe_cast(self, value):
        """``value`` cast to the scope's dtype when it is a float tensor of another dtype (Keras's method)."""
        if self.dtype is not None and value.dtype.kind == "f" and value.dtype != self.dtype:
            from ..ops.casting import cast

            return cast(value, self.dtype)
        return value

    def __enter__(self):
        self._token = _scope.set(self)
        with _count_lock:
            _function._autocasting += 1
        return self

    def __exit__(self, *exc):
        _scope.reset(self._token)
        with _count_lock:
            _function._autocasting -= 1
        return False


def get_autocast_scope():
    """The innermost open :class:`AutocastScope` of this thread, or None."""
    return _scope.get()


def _read_inputs(inputs):
    """``inputs`` with each float Variable (autocast on) of another float dtype cast to the open scope's dtype."""
    scope = _scope.get()
    dtype = None if scope is None else scope.dtype
    if dtype is None:
        return inputs
    from ..ops.casting import cast
    from .variable import Variable

    out = None
    for i, x in enumerate(inputs):
        if not isinstance(x, Variable) or not getattr(x, "autocast", True):
            continue
        if x.data.dtype.kind == "f" and x.data.dtype != dtype:
            if out is None:
                out = list(inputs)
            out[i] = cast(x, dtype)
    return inputs if out is None else tuple(out)


_function._autocast_reads = _read_inputs
