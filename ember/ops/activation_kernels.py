"""The rectifiers in one pass per direction: numba loops beside the NumPy forms of :mod:`ember.ops.activation`.

NumPy needs three passes (and two temporaries) for a leaky rectifier's forward, ``pos = x > 0``, ``x * slope``
and ``where``, and two for its backward; a loop reads each input once and writes the output and the mask
together. The arithmetic is the NumPy path's, element by element, so both give the same bits:

- ``relu``: ``y = maximum(x, 0)`` (NaN stays NaN, -0.0 gives +0.0, as ``numpy.maximum`` does) and
  ``pos = x > 0``; backward ``g * pos`` (so ``g * 0`` where ``pos`` is False: -0.0 or NaN kept).
- ``leaky_relu``: ``y = x`` where ``x > 0``, else ``x * slope`` (the slope in x's dtype), ``pos = x > 0``;
  backward ``g`` where ``pos``, else ``g * slope``.

The mask is what the backward reads (as the NumPy path keeps it), not the output, so writing into the output in
place later stays legal. Arrays: 1-D views of C-contiguous NumPy arrays of one float dtype (float32 or float64);
``pos`` is bool. Small arrays stay on NumPy (see :data:`KERNEL_MIN_SIZE`).
"""

from __future__ import annotations

import numpy

from ..backend import jit

# Below this many elements NumPy's calls cost a few microseconds and numba's first use costs ~100 MiB of memory
# (LLVM): small activations stay on NumPy (tests lower it to run the kernels).
KERNEL_MIN_SIZE = 1 << 15

_KERNEL_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


@jit.kernel
def _relu_forward(x, y, pos):
    for i in range(x.shape[0]):
        xi = x[i]
        p = xi > 0
        pos[i] = p
        y[i] = xi if p or xi != xi else 0  # numpy.maximum(x, 0): NaN wins, -0.0 and 0 give 0


@jit.kernel
def _relu_backward(g, pos, out):
    for i in range(g.shape[0]):
        gi = g[i]
        out[i] = gi if pos[i] else gi * 0  # g * pos: -0.0 for a negative g, NaN for NaN and inf, as NumPy's


@jit.kernel
def _leaky_forward(x, slope, y, pos):
    for i in range(x.shape[0]):
        xi = x[i]
        p = xi > 0
        pos[i] = p
        y[i] = xi if p else xi * slope


@jit.kernel
def _leaky_backward(g, pos, slope, out):
    for i in range(g.shape[0]):
        gi = g[i]
        out[i] = gi if pos[i] else gi * slope


def applies(x) -> bool:
    """Whether the kernels run on ``x``: a big enough C-contiguous float32/float64 NumPy array, numba available."""
    return (
        type(x) is numpy.ndarray
        and x.size >= KERNEL_MIN_SIZE
        and x.dtype in _KERNEL_DTYPES
        and x.flags.c_contiguous
        and _leaky_forward.compiled() is not None
    )


def relu_forward(x):
    """``(maximum(x, 0), x > 0)`` in one pass (call only where :func:`applies`)."""
    y = numpy.empty_like(x)
    pos = numpy.empty(x.shape, dtype=bool)
    _relu_forward.compiled()(x.reshape(-1), y.reshape(-1), pos.reshape(-1))
    return y, pos


def leaky_forward(x, slope):
    """``(where(x > 0, x, x * slope), x > 0)`` in one pass (call only where :func:`applies`)."""
    y = numpy.empty_like(x)
    pos = numpy.empty(x.shape, dtype=bool)
    _leaky_forward.compiled()(x.reshape(-1), x.dtype.type(slope), y.reshape(-1), pos.reshape(-1))
    return y, pos


def masked_backward(g, pos, slope):
    """``where(pos, g, g * slope)`` (``slope`` 0: ``g * pos``) in one pass, or None where the kernels cannot run.

    ``g`` comes from the engine: it may be non-contiguous or of another layout than ``pos``; then None.
    """
    if (
        type(g) is not numpy.ndarray
        or g.size < KERNEL_MIN_SIZE
        or g.dtype not in _KERNEL_DTYPES
        or not g.flags.c_contiguous
        or g.shape != pos.shape
        or not pos.flags.c_contiguous
    ):
        return None
    if slope == 0:
        kernel = _relu_backward.compiled()
        if kernel is None:
            return None
        out = numpy.empty_like(g)
        kernel(g.reshape(-1), pos.reshape(-1), out.reshape(-1))
        return out
    kernel = _leaky_backward.compiled()
    if kernel is None:
        return None
    out = numpy.empty_like(g)
    kernel(g.reshape(-1), pos.reshape(-1), g.dtype.type(slope), out.reshape(-1))
    return out
