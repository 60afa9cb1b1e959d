"""Shape ops: reshape, transpose, expand/squeeze, broadcast, concatenate/stack/split, pad, flip, repeat, tile.

Forward passes return views where NumPy does (reshape of a contiguous array,
transpose, flip, broadcast_to, split); backward passes route each gradient
element back to where it came from, summing where an input element was used
more than once (broadcast_to, repeat, tile, non-constant padding).
"""

from __future__ import annotations

import numbers

import numpy

from ..engine.function import Function
from ._checks import normalize_axes, normalize_axis

__all__ = [
    "reshape",
    "ravel",
    "transpose",
    "swapaxes",
    "moveaxis",
    "expand_dims",
    "squeeze",
    "broadcast_to",
    "concatenate",
    "stack",
    "split",
    "pad",
    "flip",
    "repeat",
    "tile",
]


def _shape_of(x) -> tuple:
    """The shape of a tensor, an array or a nested list."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else numpy.shape(x)


def _as_shape(op, shape) -> tuple:
    """A shape given as an int or a sequence of ints, as a tuple of Python ints."""
    if isinstance(shape, (numbers.Integral,)):
        return (int(shape),)
    try:
        return tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"{op}: expected a shape (an int or a tuple of ints), got {shape!r}") from None


# ---- reshape and friends ------------------------------------------------------


class Reshape(Function):
    """y = x with a new shape holding the same number of elements. Shapes: x (...) -> y (newshape)."""

    graph_saved = {}

    def forward(self, x, newshape):
        self.shape = x.shape
        return x.reshape(newshape)

    def backward(self, g):
        return g.reshape(self.shape)


class _ReshapeNamed(Reshape):
    """Reshape under another op's name (expand_dims, squeeze, ravel), for error messages."""


class ExpandDims(_ReshapeNamed):
    name = "expand_dims"


class Squeeze(_ReshapeNamed):
    name = "squeeze"


def _resolve_shape(op, old, newshape) -> tuple:
    """``newshape`` with its one allowed -1 filled in; ValueError naming both shapes if sizes differ."""
    newshape = _as_shape(op, newshape)
    size = int(numpy.prod(old, dtype=numpy.int64))
    unknown = [i for i, n in enumerate(newshape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in newshape):
        raise ValueError(f"{op}: new shape {newshape} may hold one -1 and otherwise non-negative sizes")
    known = int(numpy.prod([n for n in newshape if n != -1], dtype=numpy.int64))
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{op}: cannot reshape tensor of shape {old} ({size} elements) into shape {newshape}")
        newshape = newshape[: unknown[0]] + (size // known,) + newshape[unknown[0] + 1 :]
    elif known != size:
        raise ValueError(
            f"{op}: cannot reshape tensor of shape {old} ({size} elements) into shape {newshape} ({known} elements)"
        )
    return newshape


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (a tuple; one entry may be -1). A view when ``x`` is contiguous."""
    return Reshape.apply(x, newshape=_resolve_shape("reshape", _shape_of(x), newshape))


def ravel(x):
    """``x`` flattened to one dimension."""
    return reshape(x, (-1,))


def expand_dims(x, axis):
    """``x`` with new size-1 axes inserted at ``axis`` (an int or a tuple, positions in the result)."""
    shape = _shape_of(x)
    axes = normalize_axes("expand_dims", axis, len(shape) + (1 if isinstance(axis, numbers.Integral) else len(axis)))
    out, it = [], iter(shape)
    for i in range(len(shape) + len(axes)):
        out.append(1 if i in axes else next(it))
    return ExpandDims.apply(x, newshape=tuple(out))


def squeeze(x, axis=None):
    """``x`` without its size-1 axes (only those in ``axis`` when given; each must have size 1)."""
    shape = _shape_of(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        axes = normalize_axes("squeeze", axis, len(shape))
        bad = [a for a in axes if shape[a] != 1]
        if bad:
            raise ValueError(
                f"squeeze: cannot squeeze axis {bad[0]} of a tensor of shape {shape}: "
                f"it has size {shape[bad[0]]}, not 1"
            )
    return Squeeze.apply(x, newshape=tuple(n for i, n in enumerate(shape) if i not in axes))


# ---- axis permutations --------------------------------------------------------


class Transpose(Function):
    """y = x with its axes permuted: y.shape[i] = x.shape[axes[i]]. The gradient uses the inverse permutation."""

    graph_saved = {}

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        return g.transpose(tuple(int(i) for i in numpy.argsort(self.axes)))


def _permutation(op, axes, ndim) -> tuple:
    axes = tuple(int(a) for a in axes)
    if len(axes) != ndim:
        raise ValueError(f"{op}: axes {axes} do not match a tensor with {ndim} dimensions")
    norm = tuple(normalize_axis(op, a, ndim) for a in axes)
    if sorted(norm) != list(range(ndim)):
        raise ValueError(f"{op}: axes {axes} are not a permutation of the {ndim} dimensions")
    return norm


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None), as ``numpy.transpose``."""
    ndim = len(_shape_of(x))
    axes = tuple(reversed(range(ndim))) if axes is None else _permutation("transpose", axes, ndim)
    return Transpose.apply(x, axes=axes)


def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    ndim = len(_shape_of(x))
    a, b = normalize_axis("swapaxes", int(axis1), ndim), normalize_axis("swapaxes", int(axis2), ndim)
    perm = list(range(ndim))
    perm[a], perm[b] = b, a
    return Transpose.apply(x, axes=tuple(perm))


def moveaxis(x, source, destination):
    """``x`` with the axes ``source`` moved to positions ``destination`` (ints or equal-length tuples)."""
    ndim = len(_shape_of(x))
    src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
    dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have the same length")
    src = [normalize_axis("moveaxis", int(a), ndim) for a in src]
    dst = [normalize_axis("moveaxis", int(a), ndim) for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    rest = [a for a in range(ndim) if a not in src]
    perm = [None] * ndim
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = tuple(p if p is not None else next(it) for p in perm)
    return Transpose.apply(x, axes=perm)


# ---- broadcasting -------------------------------------------------------------


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view). The engine sums the gradient back to x's shape."""

    name = "broadcast_to"
    graph_saved = {}

    def forward(self, x, shape):
        lead = len(shape) - x.ndim
        if lead < 0 or any(n != 1 and n != m for n, m in zip(x.shape, shape[lead:])):
            raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to shape {shape}")
        return self.xp.broadcast_to(x, shape)

    def backward(self, g):
        return g


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` with NumPy's rules (a read-only view)."""
    return BroadcastTo.apply(x, shape=_as_shape("broadcast_to", shape))


# ---- joining and splitting ----------------------------------------------------


class Concatenate(Function):
    """y = the inputs joined along ``axis``. Shapes: (..., n_i, ...) for each input -> (..., sum n_i, ...)."""

    promote = True
    graph_saved = {}

    def forward(self, *xs, axis=0):
        if not xs:
            raise ValueError("concatenate: expected at least one tensor")
        ref = xs[0]
        if ref.ndim == 0:
            raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
        axis = normalize_axis("concatenate", axis, ref.ndim)
        for x in xs[1:]:
            if x.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, ref.shape)) if i != axis):
                shapes = ", ".join(str(t.shape) for t in xs)
                raise ValueError(
                    f"concatenate: shapes {ref.shape} and {x.shape} differ outside axis {axis} (all shapes: {shapes})"
                )
        self.axis = axis
        self.bounds = numpy.cumsum([x.shape[axis] for x in xs])[:-1].tolist()
        return self.xp.concatenate(xs, axis=axis)

    def backward(self, g):
        parts = self.xp.split(g, self.bounds, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


class Stack(Function):
    """y = the equally shaped inputs stacked along a new ``axis``. Shapes: k x (...) -> (..., k, ...)."""

    promote = True
    graph_saved = {}

    def forward(self, *xs, axis=0):
        if not xs:
            raise ValueError("stack: expected at least one tensor")
        for x in xs[1:]:
            if x.shape != xs[0].shape:
                shapes = ", ".join(str(t.shape) for t in xs)
                raise ValueError(
                    f"stack: all tensors must have the same shape, got {xs[0].shape} and {x.shape} ({shapes})"
                )
        self.axis = normalize_axis("stack", axis, xs[0].ndim + 1)
        return self.xp.stack(xs, axis=self.axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] if need else None for i, need in enumerate(self.needs_input_grad))


class Split(Function):
    """ys = x cut along ``axis`` at ``indices`` (one output per piece); the gradient joins the pieces' gradients."""

    graph_saved = {}

    def forward(self, x, indices, axis):
        self.axis = axis
        return tuple(self.xp.split(x, indices, axis=axis))

    def backward(self, *grads):
        return self.xp.concatenate(grads, axis=self.axis)


def _tensor_list(op, xs):
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__len__"):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(xs).__name__}")
    return list(xs)


def concatenate(xs, axis=0):
    """The tensors in ``xs`` joined along the existing ``axis``."""
    return Concatenate.apply(*_tensor_list("concatenate", xs), axis=axis)


def stack(xs, axis=0):
    """The equally shaped tensors in ``xs`` stacked along a new ``axis``."""
    return Stack.apply(*_tensor_list("stack", xs), axis=axis)


def split(x, indices_or_sections, axis=0):
    """``x`` cut along ``axis`` into a list of tensors, as ``numpy.split``.

    ``indices_or_sections`` is a number of equal sections (which must divide the
    axis) or a sorted list of cut positions.
    """
    shape = _shape_of(x)
    if not shape:
        raise ValueError("split: cannot split a zero-dimensional tensor")
    axis = normalize_axis("split", int(axis), len(shape))
    n = shape[axis]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"split: number of sections must be positive, got {k}")
        if n % k:
            raise ValueError(
                f"split: axis {axis} of size {n} (shape {shape}) cannot be divided into {k} equal sections"
            )
        indices = [n // k * i for i in range(1, k)]
    else:
        indices = [int(i) for i in indices_or_sections]
    return list(Split.apply(x, indices=indices, axis=axis))


# ---- padding, flipping, repeating ---------------------------------------------

_PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


class Pad(Function):
    """y = x padded by ``pad_width[i] = (before, after)`` on each axis. Shapes: (n_i) -> (before_i + n_i + after_i).

    'constant' fills with ``constant_values``; 'reflect', 'symmetric', 'edge' and
    'wrap' copy input elements as ``numpy.pad`` does. The gradient of the centre
    is the centre of g; for the copying modes, each padded position also adds
    its gradient to the input element it copies (found by padding an index range
    the same way), one axis at a time.
    """

    graph_saved = {}

    def forward(self, x, pad_width, mode="constant", constant_values=0):
        xp = self.xp
        self.widths, self.mode = pad_width, mode
        self.centre = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        self.shape = x.shape
        if mode == "constant":
            out_shape = tuple(b + n + a for (b, a), n in zip(pad_width, x.shape))
            out = xp.full(out_shape, constant_values, dtype=x.dtype)
            out[self.centre] = x
            return out
        for (b, a), n in zip(pad_width, x.shape):
            if (b or a) and n == 0:
                raise ValueError(f"pad: cannot pad an empty axis in mode {mode!r}, got shape {x.shape}")
        return xp.pad(x, pad_width, mode=mode)

    def backward(self, g):
        if self.mode == "constant":
            return g[self.centre]
        for axis in reversed(range(g.ndim)):
            b, a = self.widths[axis]
            if not (b or a):
                continue
            n = self.shape[axis]
            source = numpy.pad(numpy.arange(n), (b, a), mode=self.mode)
            lead = (slice(None),) * axis
            out = g[lead + (slice(b, b + n),)].copy()
            for p in list(range(b)) + list(range(b + n, b + n + a)):
                out[lead + (int(source[p]),)] += g[lead + (p,)]
            g = out
        return g


def _pad_width(pad_width, ndim):
    try:
        w = numpy.broadcast_to(numpy.asarray(pad_width, dtype=numpy.int64), (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} cannot be read as (before, after) pairs for {ndim} dimensions"
        ) from None
    if (w < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return tuple((int(b), int(a)) for b, a in w)


def pad(x, pad_width, mode="constant", constant_values=0):
    """``x`` padded as ``numpy.pad``: ``pad_width`` is an int, a ``(before, after)`` pair, or one pair per axis.

    ``mode`` is 'constant' (filled with ``constant_values``), 'reflect',
    'symmetric', 'edge' or 'wrap'.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    widths = _pad_width(pad_width, len(_shape_of(x)))
    return Pad.apply(x, pad_width=widths, mode=mode, constant_values=constant_values)


class Flip(Function):
    """y = x reversed along ``axes`` (a view). The gradient is g reversed the same way."""

    graph_saved = {}

    def forward(self, x, axes):
        self.axes = axes
        return self.xp.flip(x, axes)

    def backward(self, g):
        return self.xp.flip(g, self.axes)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (an int, a tuple, or None for every axis)."""
    return Flip.apply(x, axes=normalize_axes("flip", axis, len(_shape_of(x))))


class Repeat(Function):
    """y = each element of x repeated along ``axis`` (x flattened when None), as ``numpy.repeat``.

    Shapes: (..., n, ...) -> (..., sum(repeats), ...). The gradient sums each run
    of copies back into its source element.
    """

    graph_saved = {}

    def forward(self, x, repeats, axis):
        xp = self.xp
        self.shape = x.shape
        if axis is None:
            x = x.reshape(-1)
            axis = 0
        self.shape_in, self.axis = x.shape, axis
        n = x.shape[axis]
        self.repeats = repeats
        if not isinstance(repeats, int):
            if len(repeats) == 1:
                self.repeats = int(repeats[0])
            elif len(repeats) != n:
                raise ValueError(
                    f"repeat: got {len(repeats)} repeat counts for axis {axis} of size {n} (shape {x.shape})"
                )
        return xp.repeat(x, self.repeats if isinstance(self.repeats, int) else list(self.repeats), axis=axis)

    def backward(self, g):
        xp, ax, n = self.xp, self.axis, self.shape_in[self.axis]
        if isinstance(self.repeats, int):
            r = self.repeats
            shape = self.shape_in[:ax] + (n, r) + self.shape_in[ax + 1 :]
            return g.reshape(shape).sum(axis=ax + 1).reshape(self.shape)
        # each output position along the axis came from source element seg[k]; add.at sums the runs
        seg = xp.asarray(numpy.repeat(numpy.arange(n), numpy.asarray(self.repeats, dtype=numpy.int64)))
        out = xp.zeros(self.shape_in, dtype=g.dtype)
        xp.add.at(out, (slice(None),) * ax + (seg,), g)
        return out.reshape(self.shape)


def repeat(x, repeats, axis=None):
    """Each element of ``x`` repeated ``repeats`` times (an int, or one count per element) along ``axis``."""
    shape = _shape_of(x)
    if axis is not None:
        axis = normalize_axis("repeat", int(axis), len(shape))
    if isinstance(repeats, numbers.Integral):
        repeats = int(repeats)
        bad = repeats < 0
    else:
        repeats = tuple(int(r) for r in numpy.asarray(_host(repeats)).reshape(-1))
        bad = any(r < 0 for r in repeats)
    if bad:
        raise ValueError(f"repeat: repeat counts must be non-negative, got {repeats}")
    return Repeat.apply(x, repeats=repeats, axis=axis)


def _host(v):
    from ..engine.tensor import Tensor

    return v.numpy() if isinstance(v, Tensor) else v


class Tile(Function):
    """y = x tiled ``reps[i]`` times along each axis, as ``numpy.tile``. Shapes: (n_i) -> (reps_i * n_i).

    The gradient views g as (r_0, n_0, r_1, n_1, ...) and sums over the r axes.
    """

    graph_saved = {}

    def forward(self, x, reps):
        self.shape = x.shape
        d = max(x.ndim, len(reps))
        self.reps = (1,) * (d - len(reps)) + reps
        self.padded = (1,) * (d - x.ndim) + x.shape
        return self.xp.tile(x, reps)

    def backward(self, g):
        split = []
        for r, n in zip(self.reps, self.padded):
            split += [r, n]
        summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return summed.reshape(self.shape)


def tile(x, reps):
    """``x`` repeated as a block ``reps`` times along each axis (an int or a tuple), as ``numpy.tile``."""
    reps = _as_shape("tile", reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    return Tile.apply(x, reps=reps)
