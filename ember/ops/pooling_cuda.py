"""Max pooling on the GPU: the forward records each window's winner, the backward gathers by it.

The GPU form of :mod:`ember.ops.pooling_kernels` (same contract, same numbers): forward, one thread per
output cell, takes the maximum in window order with ``numpy.maximum``'s rule (NaN wins; of equal values the
later is kept) and ``winner``, the offset ``a * pw + b`` of the first cell holding it (``NO_WINNER`` for a
NaN maximum). Backward, one thread per padded input cell, sums the gradients of the windows whose winner
it is, in offset order as the CPU adds them; no atomics, so the result does not depend on thread timing.
When the windows tile the input (``assign``), a cell takes its one gradient as is (a -0.0 stays -0.0, as
on the CPU). :func:`max_pool_reference` / :func:`max_pool_backward_reference` are the same loops in NumPy.

Shapes: ``xpad`` (N, HP, WP, C) padded, ``out``/``winner`` (N, OH, OW, C), ``winner`` uint8.
"""

from __future__ import annotations

import numpy

from ..backend import cuda
from .pooling_kernels import NO_WINNER

FORWARD = cuda.register_raw(
    "max_pool_forward",
    r"""
extern "C" __global__ void ember_max_pool_forward(const T* xpad, T* out, unsigned char* winner, long long total,
                                                  int hp, int wp, int c, int oh, int ow,
                                                  int ph, int pw, int sh, int sw) {
    long long idx = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= total) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int x = (int)(r % ow);
    r /= ow;
    int y = (int)(r % oh);
    long long n = r / oh;
    long long base = ((n * hp + (long long)y * sh) * wp + (long long)x * sw) * c + ch;
    T m = xpad[base];
    unsigned char w = (m != m) ? 255 : 0;
    for (int a = 0; a < ph; ++a) {
        for (int b = 0; b < pw; ++b) {
            int k = a * pw + b;
            if (k == 0) continue;
            T v = xpad[base + ((long long)a * wp + b) * c];
            if (!(m > v || m != m)) {
                if (v != v) {
                    w = 255;
                } else if (v != m) {
                    w = (unsigned char)k;
                }
                m = v;
            }
        }
    }
    out[idx] = m;
    winner[idx] = w;
}
""",
    "ember_max_pool_forward",
)

BACKWARD = cuda.register_raw(
    "max_pool_backward",
    r"""
extern "C" __global__ void ember_max_pool_backward(const T* g, const unsigned char* winner, T* gpad,
                                                   long long total, int hp, int wp, int c, int oh, int ow,
                                                   int ph, int pw, int sh, int sw, int assign) {
    long long idx = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= total) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int xx = (int)(r % wp);
    r /= wp;
    int yy = (int)(r % hp);
    long long n = r / hp;
    T sum = 0;
    bool hit = false;
    for (int a = 0; a < ph; ++a) {
        int ty = yy - a;
        if (ty < 0) break;
        if (ty % sh != 0) continue;
        int y = ty / sh;
        if (y >= oh) continue;
        for (int b = 0; b < pw; ++b) {
            int tx = xx - b;
            if (tx < 0) break;
            if (tx % sw != 0) continue;
            int x = tx / sw;
            if (x >= ow) continue;
            long long o = ((n * oh + y) * ow + x) * c + ch;
            if (winner[o] == a * pw + b) {
                sum = (assign && !hit) ? g[o] : sum + g[o];
                hit = true;
            }
        }
    }
    gpad[idx] = sum;
}
""",
    "ember_max_pool_backward",
)


def applies(xp, array, pool) -> bool:
    """Whether the GPU form runs: CuPy float32/float64 data and a pool of fewer than 255 cells."""
    return (
        xp is not numpy
        and cuda.on_cuda(array)
        and cuda.type_name(array.dtype) is not None
        and (pool[0] * pool[1] < NO_WINNER)
    )


def _geometry_args(pad_shape, out_hw, pool):
    i32 = numpy.int32
    _, hp, wp, c = pad_shape
    return (i32(hp), i32(wp), i32(c), i32(out_hw[0]), i32(out_hw[1]), i32(pool[0]), i32(pool[1]))


def max_pool_forward(xpad, out_hw, pool, strides):
    """``(out, winner)`` of a max pool over padded ``xpad``, on the GPU."""
    cp = cuda.cupy_module()
    xpad = cp.ascontiguousarray(xpad)
    n, _, _, c = xpad.shape
    out = cp.empty((n,) + tuple(out_hw) + (c,), dtype=xpad.dtype)
    winner = cp.empty(out.shape, dtype=cp.uint8)
    kernel = cuda.raw_kernel(FORWARD, cuda.type_name(xpad.dtype))
    args = (xpad, out, winner, numpy.int64(out.size)) + _geometry_args(xpad.shape, out_hw, pool)
    cuda.launch_1d(kernel, out.size, args + (numpy.int32(strides[0]), numpy.int32(strides[1])))
    return out, winner


def max_pool_backward(g, winner, pad_shape, pool, strides):
    """The padded input gradient: ``g`` (N, OH, OW, C) sent to each window's winner, on the GPU."""
    cp = cuda.cupy_module()
    g = cp.ascontiguousarray(g)
    oh, ow = winner.shape[1:3]
    assign = tuple(strides) == tuple(pool) and tuple(pad_shape[1:3]) == (oh * pool[0], ow * pool[1])
    gpad = cp.empty(pad_shape, dtype=g.dtype)
    kernel = cuda.raw_kernel(BACKWARD, cuda.type_name(g.dtype))
    args = (g, winner, gpad, numpy.int64(gpad.size)) + _geometry_args(pad_shape, (oh, ow), pool)
    args += (numpy.int32(strides[0]), numpy.int32(strides[1]), numpy.int32(assign))
    cuda.launch_1d(kernel, gpad.size, args)
    return gpad


def max_pool_reference(xpad, out_hw, pool, strides):
    """The forward kernel's loop in NumPy (vectorised over cells): ``(out, winner)``."""
    n, _, _, c = xpad.shape
    (oh, ow), (ph, pw), (sh, sw) = out_hw, pool, strides

    def window(a, b):
        return xpad[:, a : a + (oh - 1) * sh + 1 : sh, b : b + (ow - 1) * sw + 1 : sw]

    m = window(0, 0).copy()
    w = numpy.where(m != m, NO_WINNER, 0).astype(numpy.uint8)
    with numpy.errstate(invalid="ignore"):
        for a in range(ph):
            for b in range(pw):
                k = a * pw + b
                if k == 0:
                    continue
                v = window(a, b)
                take = ~((m > v) | (m != m))
                w = numpy.where(take & (v != v), NO_WINNER, numpy.where(take & (v != m), k, w)).astype(numpy.uint8)
                m = numpy.where(take, v, m)
    return m, w


def max_pool_backward_reference(g, winner, pad_shape, pool, strides):
    """The backward kernel's gather in NumPy: each padded cell sums, in offset order, what its windows send."""
    oh, ow = winner.shape[1:3]
    (ph, pw), (sh, sw) = pool, strides
    assign = tuple(strides) == tuple(pool) and tuple(pad_shape[1:3]) == (oh * ph, ow * pw)
    gpad = numpy.zeros(pad_shape, dtype=g.dtype)
    for a in range(ph):
        for b in range(pw):
            cells = (slice(None), slice(a, a + (oh - 1) * sh + 1, sh), slice(b, b + (ow - 1) * sw + 1, sw))
            mine = winner == a * pw + b
            # tiled windows: a cell's one gradient is taken as is (-0.0 stays); else summed onto the zeros
            gpad[cells] = numpy.where(mine, g if assign else gpad[cells] + g, gpad[cells])
    return gpad
