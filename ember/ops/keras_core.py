"""Keras 3 ``keras.ops`` core names: shape, dtype, scatter, slice_update, scan, custom_gradient, ...

Control flow runs eagerly (a Python loop), so gradients flow through every
step by the ops the step itself uses. ``scatter`` and ``scatter_update`` are
new Functions (their backward gathers at the scattered positions);
``slice_update`` is a composition of ``pad`` and ``where``.
"""

from __future__ import annotations

import builtins

import numpy

from ..engine.function import Function
from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor, tensor
from . import arithmetic as _ar
from . import shaping as _sh
from .casting import cast

__all__ = [
    "shape",
    "dtype",
    "saturate_cast",
    "scatter",
    "scatter_update",
    "slice_update",
    "scan",
    "associative_scan",
    "vectorized_map",
    "vectorize",
    "custom_gradient",
]


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of Python ints (``keras.ops.shape``)."""
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else numpy.shape(x)


def dtype(x) -> str:
    """The dtype name of ``x`` (``"float32"``, ``"int32"``...)."""
    return str(_t(x).dtype)


def saturate_cast(x, dtype):  # noqa: A002 - Keras's argument name shadows the function above
    """``x`` cast to ``dtype`` with values first clipped to that dtype's range (no wrap-around)."""
    x = _t(x)
    target = numpy.dtype(str(dtype))
    if target.kind in "iu":
        info = numpy.iinfo(target)
        lo, hi = info.min, info.max
        if x.dtype.kind == "f":
            # the largest float of x's dtype not above the int range's end
            hi = numpy.nextafter(x.dtype.type(hi), x.dtype.type(0)) if x.dtype.type(hi) > hi else hi
        x = _ar.clip(x, lo, hi)
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        info = numpy.finfo(target)
        x = _ar.clip(x, float(info.min), float(info.max))
    return cast(x, target.name)


def _index_tuple(indices, rank_hint: str):
    """Integer ``indices`` of shape (..., k) as a tuple of k index arrays for the first k axes."""
    idx = numpy.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{rank_hint}: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError(f"{rank_hint}: indices must have shape (..., k), got a scalar")
    return tuple(idx[..., i] for i in range(idx.shape[-1]))


class Scatter(Function):
    """y = zeros(shape) with ``values`` added at ``indices`` (repeats sum). Shapes: values (n..., rest) -> shape.

    The gradient of ``values`` is g gathered at the same indices.
    """

    def forward(self, values, index, shape):
        xp = self.xp
        self.index = tuple(xp.asarray(i) for i in index)
        out = xp.zeros(shape, dtype=values.dtype)
        xp.add.at(out, self.index, values)
        return out

    def backward(self, g):
        return g[self.index]


def scatter(indices, values, shape):
    """A ``shape`` tensor of zeros with ``values`` added at ``indices`` (shape (n..., k): k leading axes)."""
    values = _t(values)
    target = tuple(int(n) for n in shape)
    index = _index_tuple(indices, "scatter")
    if len(index) > len(target):
        raise ValueError(f"scatter: indices index {len(index)} axes but shape {target} has {len(target)}")
    return Scatter.apply(values, index=index, shape=target)


class ScatterUpdate(Function):
    """y = x with the entries at ``indices`` replaced by ``updates``.

    Gradients: x gets g with the replaced entries zeroed; updates get g gathered there.
    """

    def forward(self, x, updates, index):
        xp = self.xp
        self.index = tuple(xp.asarray(i) for i in index)
        out = x.copy()
        out[self.index] = updates
        return out

    def backward(self, g):
        gx = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.index] = 0
        gu = g[self.index] if self.needs_input_grad[1] else None
        return gx, gu


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with the entries at ``indices`` (shape (n, k)) set to ``updates`` (shape (n, rest...)).

    ``reduction`` combines instead of replacing: 'add' (repeats sum), 'max', 'min' or 'mul' (repeats
    applied in turn).
    """
    x = _t(inputs)
    updates = _t(updates)
    if updates.dtype != x.dtype:
        updates = cast(updates, x.dtype)
    index = _index_tuple(indices, "scatter_update")
    if reduction is None:
        return ScatterUpdate.apply(x, updates, index=index)
    if reduction == "add":
        return _ar.add(x, Scatter.apply(updates, index=index, shape=x.shape))
    combine = {"max": _ar.maximum, "min": _ar.minimum, "mul": _ar.multiply}.get(reduction)
    if combine is None:
        raise ValueError(f"scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul', got {reduction!r}")
    out = x
    for i in range(index[0].shape[0]):
        one = tuple(numpy.asarray(ix[i : i + 1]) for ix in index)
        current = out[one]
        out = ScatterUpdate.apply(out, combine(current, updates[i : i + 1]), index=one)
    return out


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block starting at ``start_indices`` replaced by ``updates``."""
    x = _t(inputs)
    u = _t(updates)
    starts = [int(s) for s in (start_indices.numpy() if isinstance(start_indices, Tensor) else start_indices)]
    if len(starts) != x.ndim or u.ndim != x.ndim:
        raise ValueError(
            f"slice_update: start_indices {tuple(starts)} and updates of shape {u.shape} must match "
            f"the rank of inputs, shape {x.shape}"
        )
    widths = []
    for axis, (s, n, size) in enumerate(zip(starts, u.shape, x.shape)):
        if s < 0 or s + n > size:
            raise ValueError(
                f"slice_update: updates of shape {u.shape} starting at {tuple(starts)} leave inputs of "
                f"shape {x.shape} along axis {axis}"
            )
        widths.append((s, size - s - n))
    if u.dtype != x.dtype:
        u = cast(u, x.dtype)
    mask = numpy.zeros(x.shape, dtype=bool)
    mask[tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))] = True
    return _ar.where(mask, _sh.pad(u, widths), x)


def _stack_tree(items):
    """Stack a list of (possibly nested tuple/list/dict) per-step results along a new axis 0."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_tree([it[i] for it in items]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack_tree([it[k] for it in items]) for k in first}
    if first is None:
        return None
    return _sh.stack([_t(it) for it in items], axis=0)


def _slice_tree(xs, i):
    if isinstance(xs, (tuple, list)):
        return type(xs)(_slice_tree(x, i) for x in xs)
    if isinstance(xs, dict):
        return {k: _slice_tree(v, i) for k, v in xs.items()}
    return _t(xs)[i]


def _leading(xs):
    if isinstance(xs, (tuple, list)):
        return _leading(xs[0])
    if isinstance(xs, dict):
        return _leading(next(iter(xs.values())))
    return _t(xs).shape[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the last carry and the stacked ys.

    As ``jax.lax.scan``: with ``xs`` None, ``length`` steps run with ``x=None``.
    """
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs or length")
        n = int(length)
    else:
        n = _leading(xs)
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} but xs has {n} steps along axis 0")
    carry = init
    ys = [None] * n
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        carry, y = f(carry, None if xs is None else _slice_tree(xs, i))
        ys[i] = y
    if n == 0 or ys[0] is None:
        return carry, None
    return carry, _stack_tree(ys)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of ``elems`` along ``axis`` with the associative ``f`` (``f=add`` gives cumsum).

    Runs sequentially: ``out[i] = f(out[i-1], elems[i])``; ``elems`` may be a nested structure of tensors.
    """

    def move(tree, src, dst):
        if isinstance(tree, (tuple, list)):
            return type(tree)(move(t, src, dst) for t in tree)
        if isinstance(tree, dict):
            return {k: move(v, src, dst) for k, v in tree.items()}
        return _sh.moveaxis(_t(tree), src, dst)

    xs = move(elems, axis, 0)
    n = _leading(xs)
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    outs = [None] * n
    acc = None
    for i in order:
        item = _slice_tree(xs, i)
        acc = item if acc is None else (f(item, acc) if reverse else f(acc, item))
        outs[i] = acc
    return move(_stack_tree(outs), 0, axis)


def vectorized_map(function, elements):
    """``function`` applied to each slice of ``elements`` along axis 0 (a tensor or a nested structure)."""
    n = _leading(elements)
    return _stack_tree([function(_slice_tree(elements, i)) for i in range(n)])


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` made to map over the leading axes of its tensor arguments, as ``numpy.vectorize``.

    Without ``signature`` each call gets scalars (0-d tensors); with one such as
    ``"(n),(n)->()"`` it gets the trailing core dimensions. Arguments broadcast
    against each other; those named in ``excluded`` (positions or keywords) pass unchanged.
    """
    excluded = set(excluded or ())
    core_in = None
    if signature is not None:
        try:
            ins = signature.replace(" ", "").split("->")[0]
            core_in = [0 if part in ("", "()") else part.count(",") + 1 for part in ins[1:-1].split("),(")]
        except Exception:
            raise ValueError(f"vectorize: cannot read signature {signature!r}, expected e.g. '(n),(n)->()'") from None

    def wrapped(*args, **kwargs):
        vec = [i for i in range(len(args)) if i not in excluded]
        ts = {i: _t(args[i]) for i in vec}
        cores = {i: (core_in[k] if core_in is not None and k < len(core_in) else 0) for k, i in enumerate(vec)}
        loop_shapes = [ts[i].shape[: ts[i].ndim - cores[i]] for i in vec]
        loop = numpy.broadcast_shapes(*loop_shapes) if loop_shapes else ()
        full = {i: _sh.broadcast_to(ts[i], loop + ts[i].shape[ts[i].ndim - cores[i] :]) for i in vec}
        results = []
        for pos in numpy.ndindex(*loop):
            call = list(args)
            for i in vec:
                call[i] = full[i][pos] if pos else full[i]
            results.append(pyfunc(*call, **kwargs))
        if not loop:
            return results[0]
        out = _stack_tree(results)

        def reshape(t):
            if isinstance(t, (tuple, list)):
                return type(t)(reshape(v) for v in t)
            return _sh.reshape(t, loop + t.shape[1:])

        return reshape(out)

    return wrapped


class _CustomGradient(Function):
    """Runs ``f`` forward without recording; backward calls the ``grad_fn`` that ``f`` returned."""

    name = "custom_gradient"

    def forward(self, *arrays, f, kwargs):
        with no_grad():
            out, self.grad_fn = f(*[Tensor._wrap(a) for a in arrays], **kwargs)
        if isinstance(out, (tuple, list)):
            raise TypeError("custom_gradient: the wrapped function must return one tensor and its grad_fn")
        return _t(out).data

    def backward(self, g):
        with no_grad():
            grads = self.grad_fn(Tensor._wrap(g))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        return tuple(None if v is None else _t(v).data for v in grads)


def custom_gradient(f):
    """Decorator: ``f(*tensors)`` returns ``(output, grad_fn)``; ``grad_fn(upstream)`` gives one gradient per input.

    As on Keras's torch backend, ``grad_fn`` gets the upstream gradient positionally.
    """

    def wrapped(*args, **kwargs):
        return _CustomGradient.apply(*[_t(a) for a in args], f=f, kwargs=kwargs)

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped
