"""The rectifiers in one pass per direction: numba loops beside the NumPy forms of :mod:`ember.ops.activation`.

NumPy needs three passes (and two temporaries) for a leaky rectifier's forward, ``pos = x > 0``, ``x * slope``
and ``where``, and two for its backward; a loop reads each input once and writes the output and the mask
together. The arithmetic is the NumPy path's, element by element, so both give the same bits:

- ``relu``: ``y = maximum(x, 0)`` (NaN stays NaN, -0.0 gives +0.0, as ``numpy.maximum`` does) and
  ``pos = x > 0``; backward ``g * pos`` (so ``g * 0`` where ``pos`` is False: -0.0 or NaN kept).
- ``leaky_relu``: ``y = x`` where ``x > 0``, else ``x * slope`` (the slope in x's dtype), ``pos = x > 0``;
  backward ``g`` where ``pos``, else ``g * slope``.

The mask is what the backward reads (as the NumPy path keeps it), not the output, so writing into the output in
place later stays legal. The loops run over 4-D arrays of any strides: the gradient a convolution hands back is
often the interior of a padded array (a strided view), and copying it first would cost a pass. An array's
adjacent axes that are contiguous with each other are merged first (a C-contiguous array becomes one row), so
the inner loop is long. NumPy arrays of float32 or float64 only; ``pos`` is bool and C-contiguous, like the
outputs. Small arrays stay on NumPy (see :data:`KERNEL_MIN_SIZE`).
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
    n0, n1, n2, n3 = x.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                xr, yr, pr = x[a, b, c], y[a, b, c], pos[a, b, c]
                for d in range(n3):
                    xi = xr[d]
                    p = xi > 0
                    pr[d] = p
                    yr[d] = xi if p or xi != xi else 0  # numpy.maximum(x, 0): NaN wins, -0.0 and 0 give 0


@jit.kernel
def _relu_backward(g, pos, out):
    n0, n1, n2, n3 = g.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                gr, pr, outr = g[a, b, c], pos[a, b, c], out[a, b, c]
                for d in range(n3):
                    gi = gr[d]
                    outr[d] = gi if pr[d] else gi * 0  # g * pos: -0.0 for a negative g, NaN for NaN and inf


@jit.kernel
def _leaky_forward(x, slope, y, pos):
    n0, n1, n2, n3 = x.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                xr, yr, pr = x[a, b, c], y[a, b, c], pos[a, b, c]
                for d in range(n3):
                    xi = xr[d]
                    p = xi > 0
                    pr[d] = p
                    yr[d] = xi if p else xi * slope


@jit.kernel
def _leaky_inference(x, slope, y):
    n0, n1, n2, n3 = x.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                xr, yr = x[a, b, c], y[a, b, c]
                for d in range(n3):
                    xi = xr[d]
                    yr[d] = xi if xi > 0 else xi * slope


@jit.kernel
def _leaky_backward(g, pos, slope, out):
    n0, n1, n2, n3 = g.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                gr, pr, outr = g[a, b, c], pos[a, b, c], out[a, b, c]
                for d in range(n3):
                    gi = gr[d]
                    outr[d] = gi if pr[d] else gi * slope


def _blocks(a):
    """``a``'s shape with adjacent axes merged where their strides allow (a view), as 4 axes; None if more remain."""
    shape, strides = [], []
    for n, s in zip(a.shape, a.strides):
        if n == 1:
            continue  # any stride: merges with anything
        if shape and strides[-1] == s * n:
            shape[-1] *= n
            strides[-1] = s
        else:
            shape.append(n)
            strides.append(s)
    if len(shape) > 4:
        return None
    return (1,) * (4 - len(shape)) + tuple(shape)


def _view(a, blocks):
    """``a`` seen with the merged ``blocks`` shape (a view: its strides allow it)."""
    if a.shape == blocks:
        return a
    # numpy.reshape gives a view whenever the strides allow one; forbid a silent copy
    view = a.view()
    view.shape = blocks
    return view


def applies(x) -> bool:
    """Whether the kernels run on ``x``: a big enough float32/float64 NumPy array, numba available."""
    return (
        type(x) is numpy.ndarray
        and x.size >= KERNEL_MIN_SIZE
        and x.dtype in _KERNEL_DTYPES
        and _blocks(x) is not None
        and _leaky_forward.compiled() is not None
        and _leaky_inference.compiled() is not None
    )


def relu_forward(x):
    """``(maximum(x, 0), x > 0)`` in one pass, both C-contiguous (call only where :func:`applies`)."""
    blocks = _blocks(x)
    y = numpy.empty(x.shape, dtype=x.dtype)
    pos = numpy.empty(x.shape, dtype=bool)
    _relu_forward.compiled()(_view(x, blocks), _view(y, blocks), _view(pos, blocks))
    return y, pos


def leaky_forward(x, slope, mask=True):
    """``(where(x > 0, x, x * slope), x > 0)`` in one pass, both C-contiguous (call only where :func:`applies`).

    ``mask=False`` (no gradient wanted): the output alone, and None for the mask.
    """
    blocks = _blocks(x)
    y = numpy.empty(x.shape, dtype=x.dtype)
    if not mask:
        _leaky_inference.compiled()(_view(x, blocks), x.dtype.type(slope), _view(y, blocks))
        return y, None
    pos = numpy.empty(x.shape, dtype=bool)
    _leaky_forward.compiled()(_view(x, blocks), x.dtype.type(slope), _view(y, blocks), _view(pos, blocks))
    return y, pos


def leaky_inference_into(x, slope, out) -> bool:
    """Write ``where(x > 0, x, x * slope)`` into ``out`` (x itself, or C-contiguous like x); False if it cannot."""
    if out is not x and not (out.flags.c_contiguous and x.flags.c_contiguous):
        return False
    blocks = _blocks(x)
    _leaky_inference.compiled()(_view(x, blocks), x.dtype.type(slope), _view(out, blocks))
    return True


def masked_backward(g, pos, slope):
    """``where(pos, g, g * slope)`` (``slope`` 0: ``g * pos``) in one pass, or None where the kernels cannot run.

    ``pos`` is the forward's C-contiguous mask; ``g`` comes from the engine, of any strides.
    """
    if (
        type(g) is not numpy.ndarray
        or g.size < KERNEL_MIN_SIZE
        or g.dtype not in _KERNEL_DTYPES
        or g.shape != pos.shape
        or not pos.flags.c_contiguous
    ):
        return None
    blocks = _blocks(g)
    if blocks is None:
        return None
    kernel = (_relu_backward if slope == 0 else _leaky_backward).compiled()
    if kernel is None:
        return None
    out = numpy.empty(g.shape, dtype=g.dtype)
    if slope == 0:
        kernel(_view(g, blocks), _view(pos, blocks), _view(out, blocks))
    else:
        kernel(_view(g, blocks), _view(pos, blocks), g.dtype.type(slope), _view(out, blocks))
    return out


# ---- a Dense layer's bias and ReLU on its fresh product (ember.ops.dense) -----------------------------------------


@jit.kernel
def _bias_relu_forward(out, bias, relu):
    # out (rows, f) <- out + bias, then maximum(., 0) when relu (NaN kept, -0.0 gives +0.0), in place
    rows, f = out.shape
    for r in range(rows):
        o = out[r]
        for c in range(f):
            v = o[c] + bias[c]
            if relu and not (v > 0 or v != v):
                v = 0
            o[c] = v


@jit.kernel
def _bias_relu_backward(g, out, gm, gb):
    # gm (rows, f) <- g * (out > 0); gb (f,) <- gm's rows summed first to last (numpy.add.reduce over axis 0).
    # Each row masked, then added while it is in the cache: two plain loops vectorize (one loop doing both, with
    # the first row's case inside, took 18 us for (128, 512) against 11)
    rows, f = g.shape
    for r in range(rows):
        gr, orow, mrow = g[r], out[r], gm[r]
        for c in range(f):
            v = gr[c]
            mrow[c] = v if orow[c] > 0 else v * 0
        if r == 0:
            for c in range(f):
                gb[c] = mrow[c]
        else:
            for c in range(f):
                gb[c] += mrow[c]


def bias_act_forward(out, bias, relu: bool) -> bool:
    """``out`` (rows, F) <- ``maximum(out + bias, 0)`` (or ``out + bias``) in place, in one pass; False (nothing
    done) where the kernel cannot run (NumPy float32/float64 arrays of one dtype, ``out`` C-contiguous, big
    enough). The same bits as ``out += bias`` then ``numpy.maximum(out, 0, out=out)``."""
    if (
        type(out) is not numpy.ndarray
        or out.size < KERNEL_MIN_SIZE
        or out.dtype not in _KERNEL_DTYPES
        or type(bias) is not numpy.ndarray
        or bias.dtype != out.dtype
        or not out.flags.c_contiguous
    ):
        return False
    kernel = _bias_relu_forward.compiled()
    if kernel is None:
        return False
    kernel(out, bias, relu)
    return True


def relu_bias_backward(g, out):
    """``(g * (out > 0), that summed over its rows)`` for ``g`` and ``out`` (rows, F) in one pass, or None where
    the kernel cannot run. The sum adds the rows first to last in ``g``'s dtype, as ``numpy.add.reduce`` over
    axis 0 of a C-contiguous array does: the same bits as the separate relu backward and bias sum."""
    if (
        type(g) is not numpy.ndarray
        or g.size < KERNEL_MIN_SIZE
        or g.dtype not in _KERNEL_DTYPES
        or type(out) is not numpy.ndarray
        or out.shape != g.shape
        or not (g.flags.c_contiguous and out.flags.c_contiguous)
        or g.shape[0] == 0
    ):
        return None
    kernel = _bias_relu_backward.compiled()
    if kernel is None:
        return None
    gm = numpy.empty_like(g)
    gb = numpy.empty(g.shape[1], dtype=g.dtype)
    kernel(g, out, gm, gb)
    return gm, gb
