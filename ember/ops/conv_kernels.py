"""The convolutions' numba loops, each with a NumPy path in :mod:`ember.ops.convolution`: col2im for the input
gradient (and the transposed forward), Winograd F(2x2, 3x3) for a 3x3 stride-1 forward and its two gradients, a
layer's bias and ReLU on the output in one pass each way, and the depthwise convolution's three passes.

The input gradient of a convolution, for a block of output rows (see :mod:`ember.ops._windows`), is
``d = g_block @ kernel2d.T`` (rows, KH*KW*C), one matmul, followed by col2im: row ``r`` (image ``n``, output
cell ``(y, x)``) adds its slice ``d[r, (a*KW + b)*C : ...]`` into the padded gradient at cell
``(y*sh + a*dh, x*sw + b*dw)``. NumPy has no scatter-add of slabs, so :class:`~ember.ops.convolution.Conv2D` does
the same sums as KH*KW matmuls and strided adds; this kernel does all of col2im in one pass while the block
is in the cache. The two paths add the same products in another order (float32-honest, not bitwise).
"""

from __future__ import annotations

import numpy

from ..backend import jit
from . import activation_kernels

# Below this many input-gradient elements NumPy is fast enough, and numba's first use costs ~100 MiB of
# memory (LLVM): small convolutions stay on NumPy (tests lower it to run the kernel).
KERNEL_MIN_SIZE = 1 << 15


@jit.kernel
def _col2im_kernel(d, n0, h0, rows_h, ow, kh, kw, sh, sw, dh, dw, gpad):
    # d: (rows, kh*kw*c), rows ordered (image n0.., output row h0.., output column); adds into gpad
    c = gpad.shape[3]
    per_image = rows_h * ow
    for r in range(d.shape[0]):
        n = n0 + r // per_image
        rem = r % per_image
        y = (h0 + rem // ow) * sh
        x = (rem % ow) * sw
        for a in range(kh):
            for b in range(kw):
                dst = gpad[n, y + a * dh, x + b * dw]
                base = (a * kw + b) * c
                for ch in range(c):
                    dst[ch] += d[r, base + ch]


def col2im_kernel(xp, size: int):
    """The compiled col2im, or None (NumPy arrays only, ``size`` elements of input gradient or more)."""
    if xp is not numpy or size < KERNEL_MIN_SIZE:
        return None
    return _col2im_kernel.compiled()


# ---- few output channels: products per input cell, then a sum over the taps ---------------------------------------
#
# A convolution to a few channels (an image-producing 5x5 layer, 32 -> 3) is, as im2col, a (rows, KH*KW*C) @
# (KH*KW*C, F) product whose 3 output columns run OpenBLAS at a fraction of its speed, after a copy of KH*KW*C numbers
# per output cell. Instead: Z = K (KH*KW*F, C) @ xpad^T (C, cells), each padded input cell times every tap's filters
# (no copy: the padded input is the right operand as it is, transposed; F*KH*KW = 75 rows), then each output cell
# sums its taps' products from the cells it reads: out[y, x, f] = sum over (a, b) of Z[tap (a, b), f, cell
# (y*sh + a*dh, x*sw + b*dw)]. Z's cells along its rows make each tap's sum for an output row a contiguous run
# (with Z as (cells, 75), the sums ran over 3 channels at a time: W5's 32 -> 3 5x5 layer, 15.2 ms against 10.8).
# Stride 1 only (at stride s, Z would hold s*s times the products needed).

#: The tap-sum forward is taken for at most this many output channels (more: im2col's product is wide enough).
TAP_SUM_MAX_CHANNELS = 8


@jit.kernel
def _tap_sum(zt, n0, y0, y1, band, wp, kh, kw, dh, dw, acc, out):
    # zt (kh * kw * f, images * band * wp): products of input rows y0.. (band of them) of images n0.., one row per
    # tap and filter, cells row-major along it; out (n, oh, ow, f) <- output rows y0..y1 of those images. Each
    # output row is summed in acc (f, ow), a contiguous run of cells per tap and filter (it vectorises), then
    # stored channels-last; the taps are added in row-major order from 0
    n1 = n0 + zt.shape[1] // (band * wp)
    ow, f = out.shape[2], out.shape[3]
    for n in range(n0, n1):
        base = ((n - n0) * band - y0) * wp
        for y in range(y0, y1):
            for ch in range(f):
                for x in range(ow):
                    acc[ch, x] = 0
            for a in range(kh):
                row = base + (y + a * dh) * wp
                for b in range(kw):
                    start = row + b * dw
                    t = (a * kw + b) * f
                    for ch in range(f):
                        zr = zt[t + ch]
                        ac = acc[ch]
                        for x in range(ow):
                            ac[x] += zr[start + x]
            for x in range(ow):
                o = out[n, y, x]
                for ch in range(f):
                    o[ch] = acc[ch, x]


def tap_sum_kernel(xp, kernel_shape, strides, size: int):
    """The compiled tap sum when a conv2d forward should take it (few output channels, stride 1, a window larger
    than 1x1, NumPy arrays of ``size`` output elements or more, numba available), else None."""
    kh, kw, _, f = kernel_shape
    if xp is not numpy or f > TAP_SUM_MAX_CHANNELS or kh * kw == 1 or tuple(strides) != (1, 1):
        return None
    if size < KERNEL_MIN_SIZE:
        return None
    return _tap_sum.compiled()


def tap_sum_conv(tap_sum, xpad, kernel, out_hw, dilation, out, fill=None, bias_act=None):
    """``out`` (N, OH, OW, F) <- the stride-1 convolution of padded ``xpad`` (N, HP, WP, C) by ``kernel``
    (KH, KW, C, F). In blocks of about ``_windows.BLOCK_BYTES`` of products: whole images, or bands of output
    rows of one image (with the input rows they read) where an image's products are larger; the blocks within
    pieces of the images, run in parts at once (:func:`ember.ops._windows.run_pieces`). ``fill(first, end)``:
    the padding's (:func:`ember.ops._windows.pad_in_pieces`), each piece's images written as it starts.
    ``bias_act``: (bias, relu) applied to each block's output cells once summed (:func:`bias_act_block`)."""
    from . import _windows

    n, hp, wp, c = xpad.shape
    kh, kw, _, f = kernel.shape
    oh = out_hw[0]
    span = (kh - 1) * dilation[0]
    width = kh * kw * f
    taps = numpy.ascontiguousarray(kernel.astype(out.dtype, copy=False).transpose(0, 1, 3, 2)).reshape(width, c)
    if fill is not None and xpad.dtype != out.dtype:  # the cast below copies: pad it all first
        fill(0, n)
        fill = None
    xin = numpy.ascontiguousarray(xpad, dtype=out.dtype)
    row_bytes = wp * width * out.itemsize  # the products of one input row
    images = _windows.BLOCK_BYTES // (hp * row_bytes)

    def run(first, end):  # the blocks of images first..end-1, in this thread's scratch
        if fill is not None:
            fill(first, end)
        if images >= 1:
            blocks = [(i, min(i + images, end), 0, oh) for i in range(first, end, images)]
        else:
            rows = max(_windows.BLOCK_BYTES // row_bytes - span, 1)
            blocks = [(i, i + 1, y, min(y + rows, oh)) for i in range(first, end) for y in range(0, oh, rows)]
        biggest = max((n1 - n0) * (y1 - y0 + span) for n0, n1, y0, y1 in blocks) if blocks else 0
        z_all = _windows.scratch(numpy, biggest * wp * width, out.dtype)
        acc = numpy.empty((f, out.shape[2]), dtype=out.dtype)
        for n0, n1, y0, y1 in blocks:
            band = y1 - y0 + span if (y0, y1) != (0, oh) else hp
            z = z_all[: (n1 - n0) * band * wp * width].reshape(width, -1)
            numpy.matmul(taps, xin[n0:n1, y0 : y0 + band].reshape(-1, c).T, out=z)
            tap_sum(z, n0, y0, y1, band, wp, kh, kw, dilation[0], dilation[1], acc, out)
            if bias_act is not None:  # whole images or rows of one image: contiguous cells
                bias_act_block(out[n0:n1, y0:y1].reshape(-1, f), *bias_act)

    _windows.run_pieces(run, _windows.image_pieces(n, out.size))


# ---- Winograd F(2x2, 3x3): the forward of a 3x3, stride-1 convolution with 2.25x fewer multiplies ----------------
#
# Each 4x4 input tile d (per channel) gives a 2x2 output tile: Y = A^T [ sum_c (G g G^T)_c * (B^T d B)_c ] A
# (Lavin & Gray 2015). The transforms are additions only (G halves, exact), so the 16 products per tile and
# channel become 16 matmuls (tiles, C) @ (C, F), where im2col's single matmul has K = 9*C. The numbers are the
# direct sums, rounded differently (a few float32 ulps, more than a reordered sum: the NumPy path is im2col).

WINOGRAD_G = numpy.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])

#: Winograd is used from this many input channels on (fewer: its matmuls are too thin to pay for the transforms).
WINOGRAD_MIN_CHANNELS = 16

#: ... and from this many 2x2 output tiles on: with fewer, transforming the kernel (per call, as the weights
#: change) costs more than the multiplies saved (batch 1, 14x14, 256 -> 512: 8.2 ms against im2col's 4.5 ms).
WINOGRAD_MIN_TILES = 256

#: ... and where the output channels are at least this many times the input channels. Measured on one thread
#: (CPU time, AVX-512, after im2col's blocks grew with the kernel): Winograd beat im2col at 32 -> 64 (W2's second
#: convolution: 36 ms against 50) and 64 -> 128, but lost at 16 -> 16, 32 -> 32, 64 -> 64 and 128 -> 128 (by
#: 1.1 to 2.2x) and tied at 256 -> 256: its 16 matmuls of (tiles, C) @ (C, F) and the transforms only pay when F
#: is wide next to C.
WINOGRAD_MIN_WIDENING = 2

#: Bytes of transformed tiles (input and product) per block, kept in the cache between the passes.
WINOGRAD_BLOCK_BYTES = 2 << 20


@jit.kernel
def _winograd_input(xpad, t0, th, tw, v):
    # v: (16, tiles, c) <- B^T d B for tiles t0.. (tile t: image t // (th*tw), tile row, tile column);
    # xpad covers every tile: at least 2*th + 2 rows and 2*tw + 2 columns
    c = xpad.shape[3]
    per_image = th * tw
    for t in range(v.shape[1]):
        n = (t0 + t) // per_image
        rem = (t0 + t) % per_image
        y0 = (rem // tw) * 2
        x0 = (rem % tw) * 2
        p0, p1, p2, p3 = xpad[n, y0], xpad[n, y0 + 1], xpad[n, y0 + 2], xpad[n, y0 + 3]  # (w, c) rows
        for ch in range(c):
            d00, d01, d02, d03 = p0[x0, ch], p0[x0 + 1, ch], p0[x0 + 2, ch], p0[x0 + 3, ch]
            d10, d11, d12, d13 = p1[x0, ch], p1[x0 + 1, ch], p1[x0 + 2, ch], p1[x0 + 3, ch]
            d20, d21, d22, d23 = p2[x0, ch], p2[x0 + 1, ch], p2[x0 + 2, ch], p2[x0 + 3, ch]
            d30, d31, d32, d33 = p3[x0, ch], p3[x0 + 1, ch], p3[x0 + 2, ch], p3[x0 + 3, ch]
            # B^T d (rows)
            r00, r01, r02, r03 = d00 - d20, d01 - d21, d02 - d22, d03 - d23
            r10, r11, r12, r13 = d10 + d20, d11 + d21, d12 + d22, d13 + d23
            r20, r21, r22, r23 = d20 - d10, d21 - d11, d22 - d12, d23 - d13
            r30, r31, r32, r33 = d10 - d30, d11 - d31, d12 - d32, d13 - d33
            # (B^T d) B (columns)
            v[0, t, ch], v[1, t, ch], v[2, t, ch], v[3, t, ch] = r00 - r02, r01 + r02, r02 - r01, r01 - r03
            v[4, t, ch], v[5, t, ch], v[6, t, ch], v[7, t, ch] = r10 - r12, r11 + r12, r12 - r11, r11 - r13
            v[8, t, ch], v[9, t, ch], v[10, t, ch], v[11, t, ch] = r20 - r22, r21 + r22, r22 - r21, r21 - r23
            v[12, t, ch], v[13, t, ch], v[14, t, ch], v[15, t, ch] = r30 - r32, r31 + r32, r32 - r31, r31 - r33


@jit.kernel
def _winograd_output(m, t0, th, tw, out):
    # out (n, oh, ow, f) <- A^T m A for tiles t0.. of m (16, tiles, f); cells past oh/ow are dropped
    oh, ow, f = out.shape[1], out.shape[2], out.shape[3]
    per_image = th * tw
    for t in range(m.shape[1]):
        n = (t0 + t) // per_image
        rem = (t0 + t) % per_image
        y0 = (rem // tw) * 2
        x0 = (rem % tw) * 2
        down = y0 + 1 < oh
        right = x0 + 1 < ow
        for ch in range(f):
            a0 = m[0, t, ch] + m[4, t, ch] + m[8, t, ch]  # A^T m: row 0 ...
            a1 = m[1, t, ch] + m[5, t, ch] + m[9, t, ch]
            a2 = m[2, t, ch] + m[6, t, ch] + m[10, t, ch]
            a3 = m[3, t, ch] + m[7, t, ch] + m[11, t, ch]
            b0 = m[4, t, ch] - m[8, t, ch] - m[12, t, ch]  # ... and row 1
            b1 = m[5, t, ch] - m[9, t, ch] - m[13, t, ch]
            b2 = m[6, t, ch] - m[10, t, ch] - m[14, t, ch]
            b3 = m[7, t, ch] - m[11, t, ch] - m[15, t, ch]
            out[n, y0, x0, ch] = a0 + a1 + a2
            if right:
                out[n, y0, x0 + 1, ch] = a1 - a2 - a3
            if down:
                out[n, y0 + 1, x0, ch] = b0 + b1 + b2
                if right:
                    out[n, y0 + 1, x0 + 1, ch] = b1 - b2 - b3


def winograd_kernel_transform(kernel):
    """``G kernel G^T`` over the 3x3 axes: (3, 3, C, F) -> (4, 4, C, F), in ``kernel``'s dtype.

    Halves and sums over whole (C, F) slabs (``WINOGRAD_G``'s entries are 0, +-0.5 and 1; halving is exact):
    a three-operand ``einsum`` took longer than the 16 matmuls themselves at batch 1 (13 ms of 16 for
    256 -> 512 channels on 14x14). (A numba loop over the filters was slower still: its 25 streams, C*F
    elements apart, collide in the cache.)
    """
    u = numpy.empty((4, 4) + kernel.shape[2:], dtype=kernel.dtype)
    t = numpy.empty((3, 4) + kernel.shape[2:], dtype=kernel.dtype)  # t = kernel G^T
    half_sum, half_k1 = numpy.empty((2,) + kernel.shape[2:], dtype=kernel.dtype)
    for src, dst in ((kernel, t), (t, u)):  # G along the second axis of kernel, then along the first of t
        rows = src if src is kernel else t.transpose(1, 0, 2, 3)  # rows[r]: the r-th 3-tap set along the axis
        out = dst if src is kernel else u.transpose(1, 0, 2, 3)
        for r in range(rows.shape[0]):
            k0, k1, k2 = rows[r, 0], rows[r, 1], rows[r, 2]
            out[r, 0] = k0
            out[r, 3] = k2
            numpy.add(k0, k2, out=half_sum)
            numpy.multiply(half_sum, 0.5, out=half_sum)
            numpy.multiply(k1, 0.5, out=half_k1)
            numpy.add(half_sum, half_k1, out=out[r, 1])
            numpy.subtract(half_sum, half_k1, out=out[r, 2])
    return u


def winograd_kernels(xp, kernel_shape, strides, dilation, size: int):
    """(input transform, output transform) for a 3x3, stride-1, undilated convolution with enough channels, or None.

    NumPy arrays only, ``size`` output elements or more (as :data:`KERNEL_MIN_SIZE`; about
    :data:`WINOGRAD_MIN_TILES` tiles), numba available.
    """
    kh, kw, c, _ = kernel_shape
    if xp is not numpy or (kh, kw) != (3, 3) or tuple(strides) != (1, 1) or tuple(dilation) != (1, 1):
        return None
    f = kernel_shape[3]
    if c < WINOGRAD_MIN_CHANNELS or size < KERNEL_MIN_SIZE or size < WINOGRAD_MIN_TILES * 4 * f:
        return None
    if f < WINOGRAD_MIN_WIDENING * c:
        return None
    forward, backward = _winograd_input.compiled(), _winograd_output.compiled()
    return None if forward is None or backward is None else (forward, backward)


def _odd_step(tiles: int) -> int:
    """Tiles per block, made odd: the 16 planes of a block's (16, tiles, C) arrays then do not lie a power of two
    bytes apart. At 128 or 256 tiles (W2's backward: 64 KiB apart) the transforms' 16 streams fell into the same
    cache sets and ran 10x slower (64 ms against 6.4 ms for the output-gradient transform of W2's second layer)."""
    return max(tiles, 1) | 1


#: How many parts (threads) the Winograd passes run their pieces of images in: None asks the thread policy
#: (:func:`ember.backend.workers.split_parts`, 1 outside a fit/predict scope or on a busy machine); tests set a
#: count. The pieces (:func:`ember.ops._windows.image_pieces`) depend on the shapes only, so any count gives the
#: same bits. (Split while OpenBLAS ran 2 threads, W2's step gained nothing: after each 2-thread product its idle
#: thread spins a core for about 0.1 s. The policy's split mode holds BLAS at one thread for the whole step.)
WINOGRAD_PARTS = None


def _run_images(run, n: int, per_image: int, size: int) -> list:
    """``[run(first tile, end tile) for each piece of the n images]`` in piece order, the pieces run in
    :data:`WINOGRAD_PARTS` parts at once (:func:`ember.ops._windows.run_pieces`); ``size``: the op's elements of
    work, which sets how many pieces."""
    from ._windows import image_pieces, run_pieces

    pieces = image_pieces(n, size)
    return run_pieces(lambda i0, i1: run(i0 * per_image, i1 * per_image), pieces, WINOGRAD_PARTS)


def winograd_conv(kernels, xpad, kernel, out_hw, out, bias=None, relu=False):
    """``out`` (N, OH, OW, F) <- the 3x3 stride-1 convolution of padded ``xpad`` (N, H, W, C) by ``kernel``.

    ``kernel`` is (3, 3, C, F) and ``kernels`` the pair :func:`winograd_kernels` gave. With ``bias`` (F,), each
    block's finished output rows get it added and, with ``relu``, are clamped at 0 (a layer's bias and ReLU, by
    :func:`bias_act_forward`'s kernel: the same bits) while still in the cache, rather than in a pass of their own
    over the whole output. (In the output transform's channel loop, even unused, they made it 2x slower.)

    Tiles of 2x2 outputs in blocks of about :data:`WINOGRAD_BLOCK_BYTES`: per block the input transform into
    ``v`` (16, tiles, C), 16 matmuls ``v[k] @ u[k]`` into ``m`` (16, tiles, F), the output transform into ``out``.
    The blocks run within pieces of the images, the pieces in :data:`WINOGRAD_PARTS` parts (:func:`_run_images`).
    """
    from ._windows import scratch

    to_tiles, from_tiles = kernels
    n, _, _, c = xpad.shape
    f = kernel.shape[3]
    u = winograd_kernel_transform(kernel.astype(out.dtype, copy=False)).reshape(16, c, f)
    th, tw = -(-out_hw[0] // 2), -(-out_hw[1] // 2)
    step = _odd_step(WINOGRAD_BLOCK_BYTES // (16 * (c + f) * out.itemsize))
    xin = xpad if xpad.dtype == out.dtype else xpad.astype(out.dtype)
    if xin.shape[1] < 2 * th + 2 or xin.shape[2] < 2 * tw + 2:  # an odd output size: zeros for the last tiles
        grown = numpy.zeros((n, max(xin.shape[1], 2 * th + 2), max(xin.shape[2], 2 * tw + 2), c), dtype=out.dtype)
        grown[:, : xin.shape[1], : xin.shape[2]] = xin
        xin = grown

    oh, ow = out_hw
    per_image = th * tw
    cells = out.reshape(-1, f)  # (n * oh * ow, f)
    finish = None if bias is None else _bias_act_forward.compiled()
    bias_f = None if bias is None else bias.astype(out.dtype, copy=False)

    def run(first, end):
        work = scratch(numpy, 16 * min(step, end - first) * (c + f), out.dtype)  # this thread's own
        done = first // per_image * oh  # output rows (of n * oh) with the bias added
        for t0 in range(first, end, step):
            rows = min(step, end - t0)
            v = work[: 16 * rows * c].reshape(16, rows, c)
            m = work[16 * rows * c : 16 * rows * (c + f)].reshape(16, rows, f)
            to_tiles(xin, t0, th, tw, v)
            numpy.matmul(v, u, out=m)
            from_tiles(m, t0, th, tw, out)
            if finish is not None:  # the output rows of the tile rows finished so far
                t1 = t0 + rows
                ready = t1 // per_image * oh + min(2 * (t1 % per_image // tw), oh)
                if ready > done:
                    finish(cells[done * ow : ready * ow], bias_f, relu)
                    done = ready

    _run_images(run, n, per_image, out.size)


# ---- Winograd F(2x2, 3x3) backward: both gradients of the same forward, from one transform of the output gradient --
#
# The forward is Y = A^T M A with M = sum_c U_c * V_c per tile (U = G g G^T, V = B^T d B). It is linear in U and V,
# so with dM = A dY A^T (per tile and output channel): dU_c = sum over tiles of dM * V_c, the kernel gradient
# G^T dU G; and dV_c = sum_f dM_f * U_cf, the input gradient B dV B^T added into each tile's 4x4 input cells (tiles
# overlap by 2). Per block of tiles: dM (16, tiles, F) once, then 16 matmuls V^T @ dM for the kernel and 16
# dM @ U^T for the input, each with 2.25x fewer multiplies than im2col's (rows, F) @ (F, 9C) products.


@jit.kernel
def _winograd_grad_tiles(g, t0, th, tw, dm):
    # dm (16, tiles, f) <- A dY A^T for tiles t0.. of g (n, 2*th, 2*tw, f) (zeros past the real output)
    f = g.shape[3]
    per_image = th * tw
    for t in range(dm.shape[1]):
        n = (t0 + t) // per_image
        rem = (t0 + t) % per_image
        y0 = (rem // tw) * 2
        x0 = (rem % tw) * 2
        r0, r1 = g[n, y0], g[n, y0 + 1]
        for ch in range(f):
            p, q, r, s = r0[x0, ch], r0[x0 + 1, ch], r1[x0, ch], r1[x0 + 1, ch]
            # A dY: rows [p, q], [p + r, q + s], [p - r, q - s], [-r, -s]; then each row [u, v] -> [u, u+v, u-v, -v]
            u1, v1, u2, v2 = p + r, q + s, p - r, q - s
            dm[0, t, ch], dm[1, t, ch], dm[2, t, ch], dm[3, t, ch] = p, p + q, p - q, -q
            dm[4, t, ch], dm[5, t, ch], dm[6, t, ch], dm[7, t, ch] = u1, u1 + v1, u1 - v1, -v1
            dm[8, t, ch], dm[9, t, ch], dm[10, t, ch], dm[11, t, ch] = u2, u2 + v2, u2 - v2, -v2
            dm[12, t, ch], dm[13, t, ch], dm[14, t, ch], dm[15, t, ch] = -r, -r - s, s - r, s


@jit.kernel
def _winograd_input_adjoint(dv, t0, th, tw, gpad):
    # gpad (n, hp, wp, c) += B dV B^T for tiles t0.. of dv (16, tiles, c), at each tile's 4x4 input cells
    c = gpad.shape[3]
    per_image = th * tw
    for t in range(dv.shape[1]):
        n = (t0 + t) // per_image
        rem = (t0 + t) % per_image
        y0 = (rem // tw) * 2
        x0 = (rem % tw) * 2
        q0, q1, q2, q3 = gpad[n, y0], gpad[n, y0 + 1], gpad[n, y0 + 2], gpad[n, y0 + 3]
        for ch in range(c):
            # B w for a 4-vector w: [w0, w1 - w2 + w3, w1 + w2 - w0, -w3]; first down the columns (rows of dV) ...
            e0, e1, e2, e3 = dv[0, t, ch], dv[1, t, ch], dv[2, t, ch], dv[3, t, ch]
            f0, f1, f2, f3 = dv[4, t, ch], dv[5, t, ch], dv[6, t, ch], dv[7, t, ch]
            h0, h1, h2, h3 = dv[8, t, ch], dv[9, t, ch], dv[10, t, ch], dv[11, t, ch]
            k0, k1, k2, k3 = dv[12, t, ch], dv[13, t, ch], dv[14, t, ch], dv[15, t, ch]
            a0, a1, a2, a3 = e0, e1, e2, e3
            b0, b1, b2, b3 = f0 - h0 + k0, f1 - h1 + k1, f2 - h2 + k2, f3 - h3 + k3
            c0, c1, c2, c3 = f0 + h0 - e0, f1 + h1 - e1, f2 + h2 - e2, f3 + h3 - e3
            d0, d1, d2, d3 = -k0, -k1, -k2, -k3
            # ... then along each row
            q0[x0, ch] += a0
            q0[x0 + 1, ch] += a1 - a2 + a3
            q0[x0 + 2, ch] += a1 + a2 - a0
            q0[x0 + 3, ch] -= a3
            q1[x0, ch] += b0
            q1[x0 + 1, ch] += b1 - b2 + b3
            q1[x0 + 2, ch] += b1 + b2 - b0
            q1[x0 + 3, ch] -= b3
            q2[x0, ch] += c0
            q2[x0 + 1, ch] += c1 - c2 + c3
            q2[x0 + 2, ch] += c1 + c2 - c0
            q2[x0 + 3, ch] -= c3
            q3[x0, ch] += d0
            q3[x0 + 1, ch] += d1 - d2 + d3
            q3[x0 + 2, ch] += d1 + d2 - d0
            q3[x0 + 3, ch] -= d3


def winograd_backward_kernels():
    """(input transform, gradient transform, input adjoint) compiled, or None without numba."""
    loops = (_winograd_input.compiled(), _winograd_grad_tiles.compiled(), _winograd_input_adjoint.compiled())
    return None if any(loop is None for loop in loops) else loops


def winograd_grads(loops, xpad, kernel, g, pad_shape):
    """(gradient of the padded input or None, gradient of the kernel or None) of :func:`winograd_conv`'s output.

    ``xpad`` (N, HP, WP, C) the padded input (None: no kernel gradient), ``kernel`` (3, 3, C, F) (None: no input
    gradient), ``g`` (N, OH, OW, F) the output gradient, ``pad_shape`` (N, HP, WP, C), the input gradient's
    shape. ``loops`` from :func:`winograd_backward_kernels`. Blocks of tiles as the forward's.
    """
    from ._windows import scratch

    to_tiles, grad_tiles, adjoint = loops
    need_input, need_kernel = kernel is not None, xpad is not None
    n, hp, wp, c = pad_shape
    oh, ow, f = g.shape[1:]
    dtype = g.dtype
    th, tw = -(-oh // 2), -(-ow // 2)
    step = _odd_step(WINOGRAD_BLOCK_BYTES // (16 * (2 * c + f) * dtype.itemsize))
    if (oh, ow) != (2 * th, 2 * tw):  # an odd output size: the last tiles' missing cells are zero gradient
        even = numpy.zeros((n, 2 * th, 2 * tw, f), dtype=dtype)
        even[:, :oh, :ow] = g
        g = even
    g = numpy.ascontiguousarray(g)
    grown = (max(hp, 2 * th + 2), max(wp, 2 * tw + 2))  # an odd output size: zero cells for the last tiles
    xin = None
    if need_kernel:
        xin = xpad if xpad.dtype == dtype else xpad.astype(dtype)
        if grown != (hp, wp):
            bigger = numpy.zeros((n,) + grown + (c,), dtype=dtype)
            bigger[:, :hp, :wp] = xin
            xin = bigger
    gpad = numpy.zeros((n,) + grown + (c,), dtype=dtype) if need_input else None
    if need_input:
        ut = numpy.ascontiguousarray(
            winograd_kernel_transform(kernel.astype(dtype, copy=False)).reshape(16, c, f).transpose(0, 2, 1)
        )

    def run(first, end):
        work = scratch(numpy, 16 * min(step, end - first) * (2 * c + f), dtype)  # this thread's own
        du = numpy.zeros((16, c, f), dtype=dtype) if need_kernel else None
        for t0 in range(first, end, step):
            rows = min(step, end - t0)
            dm = work[: 16 * rows * f].reshape(16, rows, f)
            grad_tiles(g, t0, th, tw, dm)
            if need_kernel:
                v = work[16 * rows * f : 16 * rows * (f + c)].reshape(16, rows, c)
                to_tiles(xin, t0, th, tw, v)
                du += numpy.matmul(v.transpose(0, 2, 1), dm)
            if need_input:  # the parts hold whole images: no input cell gets sums from two threads
                dv = work[16 * rows * (f + c) : 16 * rows * (f + 2 * c)].reshape(16, rows, c)
                numpy.matmul(dm, ut, out=dv)
                adjoint(dv, t0, th, tw, gpad)
        return du

    dus = _run_images(run, n, th * tw, g.size)
    if need_kernel:  # the pieces' sums added in piece order, whatever ran them
        du = dus[0]
        for part in dus[1:]:
            du += part
    gx = gk = None
    if need_input:
        gx = gpad if grown == (hp, wp) else gpad[:, :hp, :wp]
    if need_kernel:
        gt = WINOGRAD_G.T.astype(dtype)  # (3, 4): G^T dU G, over the two tile axes
        du = du.reshape(4, 4, c * f)
        gk = numpy.tensordot(gt, numpy.tensordot(gt, du, axes=(1, 0)), axes=(1, 1)).transpose(1, 0, 2)
        gk = numpy.ascontiguousarray(gk).reshape(3, 3, c, f)
    return gx, gk


# ---- a layer's bias and ReLU on the convolution's output, one pass each way ---------------------------------------
#
# Conv2D(..., activation="relu") is conv + bias + relu: three passes over the output forward (two new arrays and a
# mask) and three back (the mask product, the bias sum, the add's pass-through). These do each direction in one
# pass over the (rows, F) output, in place forward. Same numbers as the separate ops: the forward adds and clamps
# as ``out + bias`` and ``maximum(., 0)`` do (NaN kept, -0.0 gives +0.0); the backward's product by the mask is ``g *
# (out > 0)`` (NaN * 0 is NaN, as there); the bias gradient is summed in float64 (closer than NumPy's float32 sum).


# The forward is Dense's kernel (out (rows, F) <- out + bias, then maximum(., 0), in place): one kernel for both.
_bias_act_forward = activation_kernels._bias_relu_forward


@jit.kernel
def _bias_act_backward(g, out, relu, gm, gb):
    # gm (rows, f) <- g * (out > 0) (g itself without relu); gb (f,) float64 += the sum of gm's rows
    rows, f = g.shape
    for r in range(rows):
        gr, orow, mrow = g[r], out[r], gm[r]
        for ch in range(f):
            v = gr[ch]
            if relu and not orow[ch] > 0:
                v = v * 0
            mrow[ch] = v
            gb[ch] += v


def _bias_act_applies(xp, out) -> bool:
    return xp is numpy and out.size >= KERNEL_MIN_SIZE and out.dtype in (numpy.float32, numpy.float64)


def bias_act_forward(xp, out, bias, relu: bool) -> None:
    """``out`` (rows, F) <- ``out + bias``, then ``maximum(., 0)`` when ``relu``, in place."""
    kernel = _bias_act_forward.compiled() if _bias_act_applies(xp, out) and out.flags.c_contiguous else None
    if kernel is not None:  # pieces of rows in parts at once (each row on its own: the same bits at any count)
        from ._windows import image_pieces, run_pieces

        b = bias.astype(out.dtype, copy=False)
        run_pieces(lambda r0, r1: kernel(out[r0:r1], b, relu), image_pieces(out.shape[0], out.size))
        return
    out += bias
    if relu:
        xp.maximum(out, 0, out=out)


@jit.kernel
def _column_sums(g, gb):
    # gb (f,) float64 += the sum of g's rows (rows, f)
    rows, f = g.shape
    for r in range(rows):
        gr = g[r]
        for ch in range(f):
            gb[ch] += gr[ch]


def bias_grad(xp, g):
    """The (F,) sum of ``g`` (rows, F) over its rows, in ``g``'s dtype: a bias's gradient.

    With numba, in pieces of rows in parts at once (:func:`ember.ops._windows.run_pieces`), each summed in
    float64 and the pieces added in piece order (the same bits at any part count; closer than NumPy's float32
    sum, as :func:`bias_act_backward`'s); else NumPy's ``g.sum(axis=0)``.
    """
    kernel = _column_sums.compiled() if _bias_act_applies(xp, g) and g.flags.c_contiguous else None
    if kernel is None:
        return g.sum(axis=0)
    from ._windows import image_pieces, run_pieces

    def run(r0, r1):
        gb = numpy.zeros(g.shape[1], dtype=numpy.float64)
        kernel(g[r0:r1], gb)
        return gb

    sums = run_pieces(run, image_pieces(g.shape[0], g.size))
    gb = sums[0]
    for part in sums[1:]:
        gb += part
    return gb.astype(g.dtype)


def bias_act_block(out, bias, relu: bool) -> None:
    """``out`` (rows, F) <- ``out + bias`` (then ``maximum(., 0)``) in place, in this thread (no split): a block of a
    split op's output while it is in the cache; the same numbers as :func:`bias_act_forward`."""
    kernel = _bias_act_forward.compiled() if _bias_act_applies(numpy, out) and out.flags.c_contiguous else None
    if kernel is not None:
        kernel(out, bias.astype(out.dtype, copy=False), relu)
        return
    out += bias
    if relu:
        numpy.maximum(out, 0, out=out)


def bias_act_backward(xp, g, out, relu: bool, need_bias: bool):
    """(the gradient past the activation (rows, F), the bias gradient (F,) or None) from ``g`` (rows, F).

    ``out`` is the forward's output (after the ReLU), read only with ``relu``."""
    if not relu:  # the gradient passes as it is (as an add's does); only the bias's is summed (in parts at once)
        return g, (bias_grad(xp, g) if need_bias else None)
    kernel = _bias_act_backward.compiled() if need_bias and _bias_act_applies(xp, g) else None
    if kernel is not None and g.flags.c_contiguous and (not relu or out.flags.c_contiguous):
        from ._windows import image_pieces, run_pieces

        gm = numpy.empty_like(g)
        src = out if relu else g

        def run(r0, r1):  # pieces of rows, each with its own bias sum, added in piece order below
            gb = numpy.zeros(g.shape[1], dtype=numpy.float64)
            kernel(g[r0:r1], src[r0:r1], relu, gm[r0:r1], gb)
            return gb

        sums = run_pieces(run, image_pieces(g.shape[0], g.size))
        gb = sums[0]
        for part in sums[1:]:
            gb += part
        return gm, gb.astype(g.dtype)
    gm = g * (out > 0) if relu else g
    return gm, (gm.sum(axis=0) if need_bias else None)


# ---- depthwise convolution: one compiled pass per direction --------------------------------------------------------
#
# NumPy runs a depthwise convolution as KH*KW broadcast multiply-adds over the whole batch (and einsums for the
# gradients): each pass streams the whole input and output through memory, 8 to 9x slower than PyTorch at 3x3.
# These loops visit each output cell once and keep its taps in the cache. Layouts as DepthwiseConv: xpad
# (N, HP, WP, C) padded, kernel (KH, KW, C, M), output (N, OH, OW, C, M). Same products; the forward adds
# the taps in the NumPy path's order (row-major offsets), so it gives the same numbers.


@jit.kernel
def _depthwise_forward(xpad, kernel, sh, sw, dh, dw, out):
    n, oh, ow, c, m = out.shape
    kh, kw = kernel.shape[0], kernel.shape[1]
    for i in range(n):
        for y in range(oh):
            for x in range(ow):
                o = out[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        v = xpad[i, y * sh + a * dh, x * sw + b * dw]
                        k = kernel[a, b]
                        if a == 0 and b == 0:
                            for ch in range(c):
                                for j in range(m):
                                    o[ch, j] = v[ch] * k[ch, j]
                        else:
                            for ch in range(c):
                                for j in range(m):
                                    o[ch, j] += v[ch] * k[ch, j]


@jit.kernel
def _depthwise_input_grad(g, kernel, sh, sw, dh, dw, gpad):
    # gpad (N, HP, WP, C) zeroed by the caller; g (N, OH, OW, C, M)
    n, oh, ow, c, m = g.shape
    kh, kw = kernel.shape[0], kernel.shape[1]
    for i in range(n):
        for y in range(oh):
            for x in range(ow):
                gc = g[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        dst = gpad[i, y * sh + a * dh, x * sw + b * dw]
                        k = kernel[a, b]
                        for ch in range(c):
                            s = gc[ch, 0] * k[ch, 0]
                            for j in range(1, m):
                                s += gc[ch, j] * k[ch, j]
                            dst[ch] += s


@jit.kernel
def _depthwise_kernel_grad(xpad, g, sh, sw, dh, dw, part, gk):
    # gk (KH, KW, C, M) zeroed by the caller; each image's sums are made in ``part`` (same shape) and then
    # added, so a float32 sum runs over one image's cells at a time rather than the whole batch's
    n, oh, ow, c, m = g.shape
    kh, kw = gk.shape[0], gk.shape[1]
    for i in range(n):
        part[...] = 0
        for y in range(oh):
            for x in range(ow):
                gc = g[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        v = xpad[i, y * sh + a * dh, x * sw + b * dw]
                        p = part[a, b]
                        for ch in range(c):
                            for j in range(m):
                                p[ch, j] += v[ch] * gc[ch, j]
        for a in range(kh):
            for b in range(kw):
                for ch in range(c):
                    for j in range(m):
                        gk[a, b, ch, j] += part[a, b, ch, j]


# depth_multiplier 1 (the common case): the same loops on (N, OH, OW, C) and (KH, KW, C), where the channel loop
# is contiguous and vectorises (the general loops' inner multiplier axis kept it scalar: 2x slower than NumPy)


@jit.kernel
def _depthwise_forward_1(xpad, kernel, sh, sw, dh, dw, out):
    n, oh, ow, c = out.shape
    kh, kw = kernel.shape[0], kernel.shape[1]
    for i in range(n):
        for y in range(oh):
            for x in range(ow):
                o = out[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        v = xpad[i, y * sh + a * dh, x * sw + b * dw]
                        k = kernel[a, b]
                        if a == 0 and b == 0:
                            for ch in range(c):
                                o[ch] = v[ch] * k[ch]
                        else:
                            for ch in range(c):
                                o[ch] += v[ch] * k[ch]


@jit.kernel
def _depthwise_input_grad_1(g, kernel, sh, sw, dh, dw, gpad):
    n, oh, ow, c = g.shape
    kh, kw = kernel.shape[0], kernel.shape[1]
    for i in range(n):
        for y in range(oh):
            for x in range(ow):
                gc = g[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        dst = gpad[i, y * sh + a * dh, x * sw + b * dw]
                        k = kernel[a, b]
                        for ch in range(c):
                            dst[ch] += gc[ch] * k[ch]


@jit.kernel
def _depthwise_kernel_grad_1(xpad, g, sh, sw, dh, dw, part, gk):
    n, oh, ow, c = g.shape
    kh, kw = gk.shape[0], gk.shape[1]
    for i in range(n):
        part[...] = 0
        for y in range(oh):
            for x in range(ow):
                gc = g[i, y, x]
                for a in range(kh):
                    for b in range(kw):
                        v = xpad[i, y * sh + a * dh, x * sw + b * dw]
                        p = part[a, b]
                        for ch in range(c):
                            p[ch] += v[ch] * gc[ch]
        for a in range(kh):
            for b in range(kw):
                for ch in range(c):
                    gk[a, b, ch] += part[a, b, ch]


def _squeezed(loops):
    """The multiplier-1 loops called with the general loops' arguments: the M = 1 axis dropped where it is."""
    forward, input_grad, kernel_grad = loops
    return (
        lambda xpad, k, sh, sw, dh, dw, out: forward(xpad, k[..., 0], sh, sw, dh, dw, out[..., 0]),
        lambda g, k, sh, sw, dh, dw, gpad: input_grad(g[..., 0], k[..., 0], sh, sw, dh, dw, gpad),
        lambda xpad, g, sh, sw, dh, dw, part, gk: kernel_grad(
            xpad, g[..., 0], sh, sw, dh, dw, part[..., 0], gk[..., 0]
        ),
    )


def depthwise_kernels(xp, size: int, multiplier: int = 2):
    """The compiled (forward, input gradient, kernel gradient) loops, or None (NumPy arrays of ``size`` output
    elements or more, as :data:`KERNEL_MIN_SIZE`, numba available). All take the general loops' arguments
    (5-D output/gradient, 4-D kernel); with ``multiplier`` 1 they drop its axis and run the vectorised loops."""
    if xp is not numpy or size < KERNEL_MIN_SIZE:
        return None
    if multiplier == 1:
        kernels = (_depthwise_forward_1, _depthwise_input_grad_1, _depthwise_kernel_grad_1)
    else:
        kernels = (_depthwise_forward, _depthwise_input_grad, _depthwise_kernel_grad)
    loops = tuple(kernel.compiled() for kernel in kernels)
    if any(loop is None for loop in loops):
        return None
    return _squeezed(loops) if multiplier == 1 else loops
