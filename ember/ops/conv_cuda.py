"""The GPU form of the 2-D convolution's input gradient: one cuBLAS matmul and one col2im kernel.

On ``cuda`` the forward of :class:`ember.ops.convolution.Conv2D` is already an implicit GEMM: the im2col
matrix is a strided gather of the padded input (``_windows.window_view`` copied in one CuPy kernel, the
whole batch at once) multiplied by the kernel with ``cupy.matmul`` (cuBLAS). Its input gradient on the
CPU is ``KH*KW`` matmuls ``g @ kernel[a, b]^T`` each added into strided cells; on the GPU that is
``2*KH*KW`` launches. Here it is one matmul ``d = g @ kernel2d^T`` (rows ``(n, oy, ox)``, columns
``(a, b, c)``, the im2col layout) and one launch of :data:`COL2IM`, a gather: each padded input cell sums
the entries of ``d`` that read it, over the kernel offsets in the order the CPU path adds them
(``a`` then ``b``), so no atomics are needed and the result does not depend on thread timing.

:func:`col2im_reference` is the same index arithmetic in NumPy (the tests check it against the CPU op,
and the GPU kernel against it).

Shapes: ``d`` (N*OH*OW, KH*KW*C) C-contiguous; the padded gradient (N, HP, WP, C).
"""

from __future__ import annotations

import numpy

from ..backend import cuda

COL2IM = cuda.register_raw(
    "conv_col2im",
    r"""
extern "C" __global__ void ember_col2im(const T* d, T* gpad, long long total, int hp, int wp, int c,
                                        int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw) {
    long long idx = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= total) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int x = (int)(r % wp);
    r /= wp;
    int y = (int)(r % hp);
    long long n = r / hp;
    long long k = (long long)kh * kw * c;
    T sum = 0;
    for (int a = 0; a < kh; ++a) {
        int ty = y - a * dh;
        if (ty < 0) break;
        if (ty % sh != 0) continue;
        int oy = ty / sh;
        if (oy >= oh) continue;
        for (int b = 0; b < kw; ++b) {
            int tx = x - b * dw;
            if (tx < 0) break;
            if (tx % sw != 0) continue;
            int ox = tx / sw;
            if (ox >= ow) continue;
            sum += d[((n * oh + oy) * ow + ox) * k + (long long)(a * kw + b) * c + ch];
        }
    }
    gpad[idx] = sum;
}
""",
    "ember_col2im",
)


def applies(array) -> bool:
    """Whether the GPU form runs for ``array``: a CuPy array of float32/float64."""
    return cuda.on_cuda(array) and cuda.type_name(array.dtype) is not None


def col2im(d, pad_shape, out_hw, k_hw, strides, dilation):
    """The padded input gradient (N, HP, WP, C) from ``d`` (N*OH*OW, KH*KW*C), on the GPU."""
    cp = cuda.cupy_module()
    d = cp.ascontiguousarray(d)
    gpad = cp.empty(pad_shape, dtype=d.dtype)
    n, hp, wp, c = pad_shape
    kernel = cuda.raw_kernel(COL2IM, cuda.type_name(d.dtype))
    i32 = numpy.int32
    args = (d, gpad, numpy.int64(gpad.size), i32(hp), i32(wp), i32(c), i32(out_hw[0]), i32(out_hw[1]))
    args += (i32(k_hw[0]), i32(k_hw[1]), i32(strides[0]), i32(strides[1]), i32(dilation[0]), i32(dilation[1]))
    cuda.launch_1d(kernel, gpad.size, args)
    return gpad


def input_grad(g2, k4, pad_shape, out_hw, strides, dilation):
    """d(loss)/d(padded input) of a convolution: ``g2`` (N*OH*OW, F), kernel ``k4`` (KH, KW, C, F)."""
    kh, kw, c, f = k4.shape
    d = g2 @ k4.reshape(kh * kw * c, f).T  # cuBLAS, (N*OH*OW, KH*KW*C)
    return col2im(d, pad_shape, out_hw, (kh, kw), strides, dilation)


def col2im_reference(d, pad_shape, out_hw, k_hw, strides, dilation):
    """:data:`COL2IM` in NumPy: the same gather, one kernel offset at a time over all cells (any xp array)."""
    n, hp, wp, c = pad_shape
    (oh, ow), (kh, kw), (sh, sw), (dh, dw) = out_hw, k_hw, strides, dilation
    d6 = d.reshape(n, oh, ow, kh, kw, c)
    gpad = numpy.zeros(pad_shape, dtype=d.dtype)
    y = numpy.arange(hp)[:, None]
    x = numpy.arange(wp)[None, :]
    for a in range(kh):
        ty = y - a * dh
        oy = ty // sh
        ok_y = (ty >= 0) & (ty % sh == 0) & (oy < oh)
        for b in range(kw):
            tx = x - b * dw
            ox = tx // sw
            ok = ok_y & (tx >= 0) & (tx % sw == 0) & (ox < ow)
            rows, cols = numpy.nonzero(ok)
            gpad[:, rows, cols] += d6[:, oy[rows, 0], ox[0, cols], a, b]
    return gpad
