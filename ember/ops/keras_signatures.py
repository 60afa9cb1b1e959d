"""``keras.ops`` argument names for Ember ops whose own names differ.

Ember's engine functions keep NumPy's (or their own) parameter names:
``clip(x, min, max)``, ``stack(xs, axis)``, ``tile(x, reps)``,
``where(condition, x, y)``, ``cumsum(x, axis)``.
Keras programs call them with Keras's keywords (``clip(x, x_min=0,
x_max=1)``, ``tile(x, repeats=...)``, ``cumsum(x, axis, dtype=...)``,
``where(condition)`` alone). Each function here
accepts both spellings (positional calls are unchanged) and forwards to the
engine function; ``ember.ops`` exports these in place of the engine's. (The
crossentropies keep ``keras.losses``'s signature at ``ember.ops``; their
``keras.ops`` forms are in ``ember.ops.nn``.)
"""

from __future__ import annotations

from . import arithmetic as _ar
from . import indexing as _ix
from . import normalization as _norm
from . import reduction as _rd
from . import shaping as _sh
from .casting import cast

__all__ = [
    "clip",
    "where",
    "stack",
    "tile",
    "cumsum",
    "cumprod",
    "max",
    "min",
    "prod",
    "one_hot",
    "layer_normalization",
]

_UNSET = object()


def _pick(op, first_name, first, second_name, second, default=None):
    """One argument given under either of two names (refusing both)."""
    if first is not _UNSET and second is not _UNSET:
        raise TypeError(f"{op}: got both {first_name}= and {second_name}= (they name the same argument)")
    if first is not _UNSET:
        return first
    if second is not _UNSET:
        return second
    return default


def clip(x, x_min=_UNSET, x_max=_UNSET, *, min=_UNSET, max=_UNSET):  # noqa: A002 - NumPy 2's names
    """``x`` limited to ``[x_min, x_max]`` (Keras's names; NumPy's ``min``/``max`` also accepted)."""
    return _ar.clip(x, _pick("clip", "x_min", x_min, "min", min), _pick("clip", "x_max", x_max, "max", max))


def where(condition, x1=_UNSET, x2=_UNSET, *, x=_UNSET, y=_UNSET):
    """``x1`` where ``condition`` holds, else ``x2``; with neither, the indices where it holds (as ``nonzero``)."""
    a = _pick("where", "x1", x1, "x", x, default=_UNSET)
    b = _pick("where", "x2", x2, "y", y, default=_UNSET)
    if a is _UNSET and b is _UNSET:
        from .keras_numpy import nonzero

        return nonzero(condition)
    if a is _UNSET or b is _UNSET:
        raise ValueError("where: give both x1 and x2, or neither (then the indices of condition are returned)")
    return _ar.where(condition, a, b)


def stack(x=_UNSET, axis=0, *, xs=_UNSET):
    """The equally shaped tensors in ``x`` stacked along a new ``axis``."""
    return _sh.stack(_pick("stack", "x", x, "xs", xs), axis=axis)


def tile(x, repeats=_UNSET, *, reps=_UNSET):
    """``x`` repeated as a block ``repeats`` times along each axis."""
    return _sh.tile(x, _pick("tile", "repeats", repeats, "reps", reps))


def _with_dtype(out, dtype):
    return out if dtype is None else cast(out, dtype)


def cumsum(x, axis=None, dtype=None):
    """The cumulative sum along ``axis`` (of the flattened ``x`` when None), cast to ``dtype`` if given."""
    return _with_dtype(_rd.cumsum(x, axis=axis), dtype)


def cumprod(x, axis=None, dtype=None):
    """The cumulative product along ``axis``, cast to ``dtype`` if given."""
    return _with_dtype(_rd.cumprod(x, axis=axis), dtype)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """The maximum along ``axis``; ``initial`` takes part in the comparison, as in NumPy."""
    out = _rd.max(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _ar.maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """The minimum along ``axis``; ``initial`` takes part in the comparison, as in NumPy."""
    out = _rd.min(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _ar.minimum(out, initial)


def prod(x, axis=None, keepdims=False, dtype=None):
    """The product along ``axis``, computed in ``dtype`` when given."""
    return _rd.prod(x if dtype is None else cast(x, dtype), axis=axis, keepdims=keepdims)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer labels along a new ``axis`` (``sparse=True`` is refused: no sparse tensors)."""
    if sparse:
        raise ValueError("one_hot: Ember has no sparse tensors; use sparse=False")
    return _ix.one_hot(x, num_classes, axis=axis, dtype=dtype)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Layer normalisation over ``axis``; ``rms_scaling=True`` (Keras's keyword) gives RMS normalisation."""
    rms = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected keyword arguments {sorted(kwargs)}")
    if rms:
        from .keras_names import rms_normalization

        return rms_normalization(x, scale=gamma, axis=axis, epsilon=epsilon)
    return _norm.layer_normalization(x, gamma, beta, axis=axis, epsilon=epsilon)
