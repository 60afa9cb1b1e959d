"""Max pooling in one pass per direction: numba loops that record each window's winner, with a NumPy fallback.

Forward (:func:`max_pool_forward`): for every output cell, the maximum over its window and ``winner``,
the window offset ``a * pw + b`` of the first cell (row-major) holding it; ``NO_WINNER`` where the maximum
is NaN (no cell compares equal to it, so no gradient flows, as on the NumPy path). Backward
(:func:`max_pool_backward`): each output's gradient goes to its winner's cell. The maximum follows
``numpy.maximum`` applied in window order (NaN wins; of two equal values the later is kept, which shows
for -0.0 and 0.0), so both paths give the same bits.

Shapes: ``xpad`` (N, HP, WP, C), padded; ``out`` (N, OH, OW, C); ``winner`` (N, OH, OW, C) uint8 (a pool
of at most 255 cells; larger pools take the NumPy path of :mod:`ember.ops.pooling`). Both passes run over pieces of
the images, in as many parts at once as the thread policy grants (:func:`ember.ops._windows.run_pieces`): each
image's cells are its own, so the bits do not depend on the count.
"""

from __future__ import annotations

import numpy

from ..backend import jit
from ._windows import image_pieces, run_pieces

NO_WINNER = 255

# Below this many output elements the NumPy path costs little, and numba's first use costs ~100 MiB of
# memory (LLVM): small pools stay on NumPy (tests lower it to run the kernels).
KERNEL_MIN_SIZE = 1 << 15


@jit.kernel
def _forward_kernel(xpad, ph, pw, sh, sw, out, winner):
    n, oh, ow, c = out.shape
    for i in range(n):
        for y in range(oh):
            for x in range(ow):
                o = out[i, y, x]
                w = winner[i, y, x]
                first = xpad[i, y * sh, x * sw]
                for ch in range(c):
                    o[ch] = first[ch]
                    w[ch] = 255 if first[ch] != first[ch] else 0
                for a in range(ph):
                    for b in range(pw):
                        k = a * pw + b
                        if k == 0:
                            continue
                        v = xpad[i, y * sh + a, x * sw + b]
                        for ch in range(c):
                            m = o[ch]
                            vc = v[ch]
                            if not (m > vc or m != m):  # numpy.maximum(m, v): v unless m is larger or NaN
                                o[ch] = vc
                                if vc != vc:
                                    w[ch] = 255  # a NaN maximum: no cell equals it
                                elif vc != m:  # a larger value (not an equal one, nor after a NaN): a new winner
                                    w[ch] = k


@jit.kernel
def _backward_kernel(g, winner, ph, pw, sh, sw, gpad, assign):
    n, oh, ow, c = g.shape
    if assign:
        # the windows tile gpad exactly (stride == pool, no cell left over): every cell is written here, once,
        # so gpad need not be zeroed first
        for i in range(n):
            for y in range(oh):
                for x in range(ow):
                    for a in range(ph):
                        for b in range(pw):
                            k = a * pw + b
                            for ch in range(c):
                                gpad[i, y * sh + a, x * sw + b, ch] = g[i, y, x, ch] if winner[i, y, x, ch] == k else 0
        return
    # gpad is zero; a cell may be in several windows: add offset by offset, in the NumPy path's order of sums
    for a in range(ph):
        for b in range(pw):
            k = a * pw + b
            for i in range(n):
                for y in range(oh):
                    for x in range(ow):
                        for ch in range(c):
                            if winner[i, y, x, ch] == k:
                                gpad[i, y * sh + a, x * sw + b, ch] += g[i, y, x, ch]


def kernels_apply(xp, out_size: int, pool) -> bool:
    """Whether the numba kernels run for this pool: NumPy arrays, big enough, numba available."""
    return (
        xp is numpy
        and out_size >= KERNEL_MIN_SIZE
        and pool[0] * pool[1] < NO_WINNER
        and _forward_kernel.compiled() is not None
    )


def max_pool_forward(xpad, out_hw, pool, strides):
    """``(out, winner)`` of a max pool over padded ``xpad`` (see the module docstring). numba only."""
    n, _, _, c = xpad.shape
    out = numpy.empty((n,) + tuple(out_hw) + (c,), dtype=xpad.dtype)
    winner = numpy.empty(out.shape, dtype=numpy.uint8)
    kernel = _forward_kernel.compiled()

    def run(i0, i1):  # each image's cells on their own: pieces of images run on the worker threads
        kernel(xpad[i0:i1], pool[0], pool[1], strides[0], strides[1], out[i0:i1], winner[i0:i1])

    run_pieces(run, image_pieces(n, out.size))
    return out, winner


def max_pool_backward(g, winner, pad_shape, pool, strides):
    """The padded input gradient: ``g`` (N, OH, OW, C) sent to each window's winner."""
    oh, ow = winner.shape[1:3]
    assign = tuple(strides) == tuple(pool) and tuple(pad_shape[1:3]) == (oh * pool[0], ow * pool[1])
    gpad = (numpy.empty if assign else numpy.zeros)(pad_shape, dtype=g.dtype)
    kernel = _backward_kernel.compiled()
    if kernel is not None:

        def run(i0, i1):
            kernel(g[i0:i1], winner[i0:i1], pool[0], pool[1], strides[0], strides[1], gpad[i0:i1], assign)

        run_pieces(run, image_pieces(g.shape[0], gpad.size))
        return gpad
    # numba switched off since the forward: the same routing in NumPy, one pool offset at a time
    if assign:
        gpad[...] = 0
    for a in range(pool[0]):
        rows = slice(a, a + (oh - 1) * strides[0] + 1, strides[0])
        for b in range(pool[1]):
            cols = slice(b, b + (ow - 1) * strides[1] + 1, strides[1])
            gpad[:, rows, cols] += numpy.where(winner == a * pool[1] + b, g, 0)
    return gpad
