"""Input checks shared by ops, with messages that name the op and the shapes."""

from __future__ import annotations

import numpy


def broadcast_shapes(op: str, *shapes) -> tuple:
    """The broadcast result of ``shapes``, or a ValueError naming ``op`` and every shape."""
    try:
        return numpy.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def normalize_axis(op: str, axis: int, ndim: int) -> int:
    """``axis`` as a non-negative index into ``ndim`` axes, or a ValueError naming ``op``."""
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim


def normalize_axes(op: str, axis, ndim: int) -> tuple:
    """``axis`` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, numpy.integer)):
        axis = (int(axis),)
    axes = tuple(sorted(normalize_axis(op, int(a), ndim) for a in axis))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return axes


def elementwise(op: str, ufunc, *arrays):
    """``ufunc(*arrays)``; if broadcasting fails, a ValueError naming ``op`` and the shapes.

    The shapes are checked only after a failure, so the common path costs nothing.
    """
    try:
        return ufunc(*arrays)
    except ValueError:
        broadcast_shapes(op, *(a.shape for a in arrays))
        raise
