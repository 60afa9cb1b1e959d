"""Convolutions in Keras's channels-last layout: conv1d, conv2d, conv2d_transpose, depthwise_conv2d.

Layouts (no bias inside the ops; layers add it):

- conv1d: x (batch, steps, channels), kernel (kw, in, out)
- conv2d: x (batch, height, width, channels), kernel (kh, kw, in, out)
- conv2d_transpose: kernel (kh, kw, out, in), as Keras's Conv2DTranspose
- depthwise_conv2d: kernel (kh, kw, in, depth_multiplier); output channel
  ``c * depth_multiplier + m`` comes from input channel ``c``

Like Keras (and every DL framework) these are cross-correlations: the kernel is
not flipped. Padding "same" follows TensorFlow: ``out = ceil(in / stride)``
and the odd padding cell goes to the bottom/right.

How they run: the forward pass of conv1d/conv2d is im2col and a matmul (:func:`correlate`), in
blocks of output rows of about ``_windows.BLOCK_BYTES`` of im2col, or twice the kernel matrix where that is
larger (a strided window view copied into a reused scratch matrix, then multiplied while it is still in the
cache); no im2col matrix is kept for backward, which copies the blocks again for the kernel gradient
(:func:`kernel_grad`; a small matrix, up to ``_windows.KEEP_BYTES``, is kept instead). The input gradient is
one matmul per kernel offset and block, added into a strided view of a zero buffer of the padded input's
shape (with numba: one matmul per block and a compiled col2im, :mod:`ember.ops.conv_kernels`); at stride 1
with fewer output than input channels it is instead a convolution of the padded output gradient by the
flipped kernel, and when the kernel gradient is wanted too both come from that one im2col
(:func:`_grads_as_conv`); it is skipped when the input needs none (a first layer's data). With numba, a 3x3
stride-1 undilated forward with 16+ input channels, at least twice as many output channels, enough tiles and
no im2col to keep runs as Winograd F(2x2, 3x3) (:func:`ember.ops.conv_kernels.winograd_conv`: 16 matmuls
with 2.25x fewer multiplies in all than im2col's one), and then so does its backward
(:func:`ember.ops.conv_kernels.winograd_grads`: both gradients from one transform of the output gradient per
block of tiles); a stride-1 forward to at most 8 channels (an image's 5x5 32 -> 3 layer) multiplies each
padded input cell by every tap's filters (no im2col) and sums each output's taps
(:func:`ember.ops.conv_kernels.tap_sum_conv`). A layer's bias and ReLU run in the convolution's op
(:func:`conv_bias_act`): on each block's rows in the cache on the im2col, tap-sum and Winograd paths (else one
pass over the output), and one pass backward; a Conv2DTranspose layer's bias is added by each piece of images as
it finishes (:class:`ConvTransposeBias`). 'same' padding is written by each piece of images as it starts
(:func:`ember.ops._windows.pad_in_pieces`), not as a serial pass before the split.
The transposed convolution is the same steps the other way around: its forward is conv2d's input gradient
(no stride-dilated zeros), its input gradient conv2d's forward and its kernel gradient conv2d's. The depthwise
convolution runs as broadcast multiply-adds per kernel offset, or with numba as one compiled pass per direction.
Loops run over blocks and kernel offsets only. Every path but the depthwise one cuts the batch into pieces of
whole images (:func:`ember.ops._windows.image_pieces`, shapes alone decide them), each with its own blocks and
partial kernel gradient, and runs them in as many parts at once as the thread policy grants
(:func:`ember.backend.workers.split_parts`); partial sums are added in piece order, so any count gives the same bits.
"""

from __future__ import annotations

import numpy

from ..engine.function import Function
from . import _windows, conv_cuda, conv_kernels
from ._windows import (
    as_2d_input,
    as_tuple,
    block_rows,
    check_padding,
    check_rank,
    im2col_block,
    offset_slice,
    over_pieces,
    pad_in_pieces,
    pad_spatial,
    piece_blocks,
    spatial_geometry,
)

__all__ = ["conv1d", "conv2d", "conv2d_transpose", "depthwise_conv2d"]

_LAYOUT = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


def _check_input(op, x, spatial):
    check_rank(op, "input", x.shape, spatial + 2, _LAYOUT[spatial])


def _crop(g, pads, h, w):
    """The region of padded gradient ``g`` that belongs to the unpadded input (a view)."""
    (t, _), (left, _) = pads
    return g[:, t : t + h, left : left + w]


def correlate(xp, xpad, k4, out_hw, strides, dilation, keep=None, fill=None, bias_act=None):
    """The (N * OH * OW, F) cross-correlation of padded ``xpad`` (N, HP, WP, C) with ``k4`` (KH, KW, C, F).

    im2col in blocks of output rows (:func:`~ember.ops._windows.row_blocks`), each block's windows copied into
    a reused scratch matrix (or into its rows of ``keep``, an (N * OH * OW, KH * KW * C) array the caller
    keeps for the kernel gradient) and multiplied by the kernel as a (KH * KW * C, F) matrix while still in
    the cache. With numba, a 3x3 stride-1 undilated kernel with enough channels and tiles runs as Winograd
    instead (:func:`ember.ops.conv_kernels.winograd_conv`) unless the im2col is to be kept. ``fill``: the
    padding's (:func:`~ember.ops._windows.pad_in_pieces`), called on each piece's images before its blocks.
    ``bias_act``: (bias, relu) added (and applied) to each block's rows after its matmul, while they are in the
    cache (:func:`ember.ops.conv_kernels.bias_act_block`; NumPy arrays only, not with Winograd).
    """
    n, c = xpad.shape[0], xpad.shape[3]
    kh, kw, _, f = k4.shape
    k2 = k4.reshape(kh * kw * c, f)
    out = xp.empty((n * out_hw[0] * out_hw[1], f), dtype=xp.result_type(xpad, k4))
    winograd = None if keep is not None else conv_kernels.winograd_kernels(xp, k4.shape, strides, dilation, out.size)
    if winograd is not None:
        if fill is not None:
            fill(0, n)
        conv_kernels.winograd_conv(
            winograd, xpad, k4, out_hw, out.reshape((n,) + tuple(out_hw) + (f,)), *(bias_act or ())
        )
        return out
    row_bytes = out_hw[1] * kh * kw * c * xpad.dtype.itemsize

    def run(first, end):
        if fill is not None:
            fill(first, end)
        for block in piece_blocks(xp, first, end, out_hw, row_bytes, k2.nbytes):
            rows = block_rows(block, out_hw)
            cols_out = None if keep is None else keep[rows]
            cols = im2col_block(xp, xpad, block, out_hw, (kh, kw), strides, dilation, out=cols_out)
            xp.matmul(cols, k2, out=out[rows])
            if bias_act is not None:
                conv_kernels.bias_act_block(out[rows], *bias_act)

    over_pieces(xp, run, n, n * out_hw[0] * row_bytes // xpad.dtype.itemsize)
    return out


def kernel_grad(xp, xpad, g2, k_hw, out_hw, strides, dilation, fill=None):
    """The (KH * KW * C, F) gradient of :func:`correlate`'s kernel: im2col(xpad)^T @ g2, summed over blocks
    (``fill`` as :func:`correlate`'s)."""
    n, c = xpad.shape[0], xpad.shape[3]
    kh, kw = k_hw
    f = g2.shape[1]
    dtype = xp.result_type(xpad, g2)
    row_bytes = out_hw[1] * kh * kw * c * xpad.dtype.itemsize

    def run(first, end):  # this piece's sum
        if fill is not None:
            fill(first, end)
        gk = xp.zeros((kh * kw * c, f), dtype=dtype)
        for block in piece_blocks(xp, first, end, out_hw, row_bytes, gk.nbytes):
            cols = im2col_block(xp, xpad, block, out_hw, (kh, kw), strides, dilation)
            gk += cols.T @ g2[block_rows(block, out_hw)]
        return gk

    return _sum_in_order(over_pieces(xp, run, n, n * out_hw[0] * row_bytes // xpad.dtype.itemsize))


def _sum_in_order(parts: list):
    """The pieces' partial sums added in piece order (the same bits whatever ran them), into the first."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _correlate_and_kernel_grad(xp, xpad, k4, g2, out_hw, strides, dilation, fill=None):
    """(:func:`correlate` of ``xpad`` by ``k4``, :func:`kernel_grad` of ``xpad`` with ``g2``) from one im2col
    copy per block: the transposed convolution's two gradients read the same windows of its output gradient
    (``fill`` as :func:`correlate`'s).
    """
    n, c = xpad.shape[0], xpad.shape[3]
    kh, kw, _, f = k4.shape
    k2 = k4.reshape(kh * kw * c, f)
    out = xp.empty((n * out_hw[0] * out_hw[1], f), dtype=xp.result_type(xpad, k4))
    gk_shape, gk_dtype = (kh * kw * c, g2.shape[1]), xp.result_type(xpad, g2)
    row_bytes = out_hw[1] * kh * kw * c * xpad.dtype.itemsize
    matrix_bytes = max(k2.nbytes, gk_shape[0] * gk_shape[1] * gk_dtype.itemsize)

    def run(first, end):  # this piece's rows of out and its sum of gk
        if fill is not None:
            fill(first, end)
        gk = xp.zeros(gk_shape, dtype=gk_dtype)
        for block in piece_blocks(xp, first, end, out_hw, row_bytes, matrix_bytes):
            rows = block_rows(block, out_hw)
            cols = im2col_block(xp, xpad, block, out_hw, (kh, kw), strides, dilation)
            xp.matmul(cols, k2, out=out[rows])
            gk += cols.T @ g2[rows]
        return gk

    return out, _sum_in_order(over_pieces(xp, run, n, n * out_hw[0] * row_bytes // xpad.dtype.itemsize))


def _flipped_window(xp, g2, k4, x4_shape, pads, out_hw, dilation):
    """(window, flipped kernel): the input gradient of a stride-1 conv2d is the correlation of ``window`` (the
    output gradient zero-padded by the dilated kernel's span less one on each side, cut to the cells the unpadded
    input's gradient reads) with ``flipped``, the kernel flipped in space with its channel axes swapped (KH, KW,
    F, C)."""
    n, h, w, c = x4_shape
    kh, kw, _, f = k4.shape
    (t, _), (left, _) = pads
    span_h, span_w = (kh - 1) * dilation[0], (kw - 1) * dilation[1]
    gfull = xp.zeros((n, out_hw[0] + 2 * span_h, out_hw[1] + 2 * span_w, f), dtype=g2.dtype)
    gfull[:, span_h : span_h + out_hw[0], span_w : span_w + out_hw[1]] = g2.reshape(n, out_hw[0], out_hw[1], f)
    flipped = xp.ascontiguousarray(k4[::-1, ::-1].transpose(0, 1, 3, 2))
    return gfull[:, t : t + h + span_h, left : left + w + span_w], flipped


def _input_grad_as_conv(xp, g2, k4, x4_shape, pads, out_hw, dilation):
    """The input gradient of a stride-1 conv2d as a convolution of the padded output gradient by the flipped
    kernel (:func:`_flipped_window`), cropped to the unpadded input.

    For F < C this beats :meth:`Conv2D._input_grad`, whose (rows, KH*KW*C) matmul result and col2im move
    KH*KW*C numbers per output cell where this im2col moves KH*KW*F (an image-producing 5x5 layer, 32 -> 3
    channels: 75 against 800).
    """
    window, flipped = _flipped_window(xp, g2, k4, x4_shape, pads, out_hw, dilation)
    return correlate(xp, window, flipped, x4_shape[1:3], (1, 1), dilation)


def _grads_as_conv(xp, g2, k4, xpad, x4_shape, pads, out_hw, dilation):
    """(input gradient (N * H * W, C), kernel gradient (KH, KW, C, F)) of a stride-1 conv2d from one im2col of the
    flipped window (:func:`_flipped_window`): its rows, KH*KW*F numbers per input cell, times the flipped kernel
    give the input gradient, and their transpose times the input gives the flipped kernel's gradient. For F < C
    that im2col is smaller than the input's (KH*KW*C per output cell), which :func:`kernel_grad` copies.

    The kernel gradient sums over the unpadded input's cells only (the padding is zero).
    """
    n, h, w, c = x4_shape
    kh, kw, _, f = k4.shape
    window, flipped = _flipped_window(xp, g2, k4, x4_shape, pads, out_hw, dilation)
    x2 = _crop(xpad, pads, h, w).reshape(-1, c)  # a copy only where padded
    gx, gk = _correlate_and_kernel_grad(xp, window, flipped, x2, (h, w), (1, 1), dilation)
    return gx, xp.ascontiguousarray(gk.reshape(kh, kw, f, c)[::-1, ::-1].transpose(0, 1, 3, 2))


class Conv2D(Function):
    """2-D convolution (cross-correlation), channels-last.

    Shapes: x (N, H, W, C), kernel (KH, KW, C, F) -> (N, OH, OW, F).

    Forward: im2col in blocks of output rows (:func:`~ember.ops._windows.row_blocks`): each block's windows
    are copied into a reused scratch matrix (rows, KH*KW*C) and multiplied by the kernel (KH*KW*C, F) into its
    rows of the output. Backward keeps the padded input, not the im2col matrix (unless it is small, KEEP_BYTES):
    the kernel gradient is cols^T @ g summed over the same blocks (their im2col copied again), the input
    gradient is, per block, one matmul g @ kernel[a, b]^T per kernel offset added into the offset's strided
    cells of the padded gradient.
    A 1x1 kernel with stride 1 and no padding is one plain matmul each way.
    With numba, a 3x3 stride-1 forward with enough channels is Winograd, and so is its backward; a stride-1
    forward to a few channels is a tap sum (:mod:`ember.ops.conv_kernels`). At stride 1 with F < C both
    gradients come from one im2col of the padded output gradient (:func:`_grads_as_conv`).
    """

    name = "conv2d"
    spatial = 2
    graph_saved = {}  # _backward_on_tensors links the kept input and kernel into the graph itself
    owns_output = True  # forward returns an array it allocated: compile/forward_plan.py may write into it

    def forward(self, x, kernel, strides, padding, dilation_rate):
        op, spatial = self.name, self.spatial
        _check_input(op, x, spatial)
        kernel_layout = "(kw, in_channels, out_channels)" if spatial == 1 else "(kh, kw, in_channels, out_channels)"
        check_rank(op, "kernel", kernel.shape, spatial + 2, kernel_layout)
        if kernel.shape[-2] != x.shape[-1]:
            raise ValueError(
                f"{op}: kernel expects {kernel.shape[-2]} input channels but the input has {x.shape[-1]} "
                f"(input shape {x.shape}, kernel shape {kernel.shape})"
            )
        xp = self.xp
        x4 = as_2d_input(x)
        k4 = kernel[None] if spatial == 1 else kernel
        n, h, w, c = x4.shape
        kh, kw, _, f = k4.shape
        out_hw, pads = spatial_geometry(op, padding, (h, w), (kh, kw), strides, dilation_rate)
        # padded by each piece of images as it starts (fill), on the paths that split over images from the start
        xpad, fill = pad_in_pieces(xp, x4, pads)
        k2 = k4.reshape(kh * kw * c, f)
        pointwise = kh == kw == 1 and xpad.shape[1:3] == out_hw  # 1x1, stride 1, no padding: x is its own im2col
        size = n * out_hw[0] * out_hw[1] * f
        tap_sum = None
        if not pointwise and conv_kernels.winograd_kernels(xp, k4.shape, strides, dilation_rate, size) is None:
            tap_sum = conv_kernels.tap_sum_kernel(xp, k4.shape, strides, size)
        if pointwise:
            xpad = x4.reshape(-1, c)
            out = xpad @ k2
        elif tap_sum is not None:  # few output channels: per-cell products, then each output sums its taps
            out = xp.empty((n * out_hw[0] * out_hw[1], f), dtype=xp.result_type(xpad, k4))
            out4 = out.reshape((n,) + out_hw + (f,))
            fused = getattr(self, "fuse_bias", None)  # (bias, relu) from _BiasAct: on each block's cells
            conv_kernels.tap_sum_conv(tap_sum, xpad, k4, out_hw, dilation_rate, out4, fill=fill, bias_act=fused)
            self.bias_applied = fused is not None
        else:
            row_bytes = out_hw[1] * kh * kw * c * x.dtype.itemsize
            keep = None  # a small im2col matrix is kept for the kernel gradient rather than copied again
            if self.needs_input_grad[1] and (xp is not numpy or n * out_hw[0] * row_bytes <= _windows.KEEP_BYTES):
                keep = self.cols = xp.empty((n * out_hw[0] * out_hw[1], kh * kw * c), dtype=x.dtype)
            winograd = (
                None if keep is not None else conv_kernels.winograd_kernels(xp, k4.shape, strides, dilation_rate, size)
            )
            if winograd is not None:  # backward takes Winograd's gradients too (conv_kernels.winograd_grads)
                if fill is not None:
                    fill(0, n)
                out = xp.empty((n * out_hw[0] * out_hw[1], f), dtype=xp.result_type(xpad, k4))
                fused = getattr(self, "fuse_bias", None)  # (bias, relu) from _BiasAct: on each block's rows
                out4 = out.reshape((n,) + tuple(out_hw) + (f,))
                conv_kernels.winograd_conv(winograd, xpad, k4, out_hw, out4, *(fused or ()))
                self.winograd = True
                self.bias_applied = fused is not None
            else:
                fused = getattr(self, "fuse_bias", None) if xp is numpy else None  # on each block's rows
                out = correlate(xp, xpad, k4, out_hw, strides, dilation_rate, keep=keep, fill=fill, bias_act=fused)
                self.bias_applied = fused is not None
        if self.needs_input_grad[1]:
            self.xpad = xpad  # the input itself (a view) unless padded
        if self.needs_input_grad[0]:
            self.k4 = k4
        self.geometry = (x.shape, kernel.shape, x4.shape, pads, out_hw, strides, dilation_rate, pointwise)
        return out.reshape((n,) + out_hw[2 - spatial :] + (f,))

    def backward(self, g):
        if getattr(self.xp, "graph", False):  # backward(create_graph=True): the same sums with Ember ops
            return self._backward_on_tensors(g)
        x_shape, k_shape, (n, h, w, c), pads, out_hw, strides, dilation, pointwise = self.geometry
        xp = self.xp
        f = k_shape[-1]
        kh, kw = (1,) + k_shape[:1] if self.spatial == 1 else k_shape[:2]
        g2 = g.reshape(-1, f)
        gx = gk = None
        loops = conv_kernels.winograd_backward_kernels() if getattr(self, "winograd", False) else None
        if loops is not None:  # the forward ran Winograd: both gradients from one transform of g per block
            gpad, gk = conv_kernels.winograd_grads(
                loops,
                self.xpad if self.needs_input_grad[1] else None,
                self.k4 if self.needs_input_grad[0] else None,
                g.reshape((n,) + tuple(out_hw) + (f,)),
                (n, h + sum(pads[0]), w + sum(pads[1]), c),
            )
            gx = None if gpad is None else _crop(gpad, pads, h, w).reshape(x_shape)
            return gx, None if gk is None else gk.reshape(k_shape)
        few_out = not pointwise and tuple(strides) == (1, 1) and f < c
        if few_out and all(self.needs_input_grad[:2]) and not hasattr(self, "cols"):
            # both gradients from one im2col of the padded output gradient (F channels, not C)
            gx, gk = _grads_as_conv(xp, g2, self.k4, self.xpad, (n, h, w, c), pads, out_hw, dilation)
            return gx.reshape(x_shape), gk.reshape(k_shape)
        if self.needs_input_grad[1]:
            if pointwise:
                gk = self.xpad.T @ g2
            elif hasattr(self, "cols"):  # the kept im2col: per piece of images, partial sums in piece order
                cols, per_image = self.cols, out_hw[0] * out_hw[1]

                def run(first, end):
                    rows = slice(first * per_image, end * per_image)
                    return cols[rows].T @ g2[rows]

                gk = _sum_in_order(over_pieces(xp, run, n, cols.size))
            else:
                gk = kernel_grad(xp, self.xpad, g2, (kh, kw), out_hw, strides, dilation)
            gk = gk.reshape(k_shape)
        if self.needs_input_grad[0]:
            k4 = self.k4
            if pointwise:
                gx = g2 @ k4[0, 0].T
            elif tuple(strides) == (1, 1) and f < c:
                gx = _input_grad_as_conv(xp, g2, k4, (n, h, w, c), pads, out_hw, dilation)
            else:
                gx = self._input_grad(xp, g2, k4, (n, h, w, c), pads, out_hw, strides, dilation)
            gx = gx.reshape(x_shape)
        return gx, gk

    def _backward_on_tensors(self, g):
        """The backward as differentiable Ember ops, one kernel offset (a, b) at a time, for create_graph.

        gk[a, b] = window(a, b)^T @ g and gx = the sum over (a, b) of g @ kernel[a, b]^T added at the cells
        the window reads, cropped to the unpadded input; the windows are strided slices of the padded input.
        """
        from ..engine.autograd import graph_input
        from .arithmetic import matmul
        from .shaping import pad, stack

        x_shape, k_shape, (n, h, w, c), pads, out_hw, strides, dilation, pointwise = self.geometry
        kh, kw = (1,) + k_shape[:1] if self.spatial == 1 else k_shape[:2]
        f = k_shape[-1]
        (t, b_), (left, r) = pads
        g2 = g.reshape(-1, f)
        offsets = []
        for a in range(kh):
            for b in range(kw):
                ys = offset_slice(a, dilation[0], strides[0], out_hw[0])
                xs = offset_slice(b, dilation[1], strides[1], out_hw[1])
                offsets.append((a, b, (slice(None), ys, xs)))
        gx = gk = None
        if self.needs_input_grad[1]:
            kept = self.xpad.reshape(n, h, w, c) if pointwise else _crop(self.xpad, pads, h, w)
            x4 = graph_input(self, 0, kept.reshape(x_shape)).reshape(n, h, w, c)
            xpad = pad(x4, ((0, 0), (t, b_), (left, r), (0, 0))) if (t or b_ or left or r) else x4
            parts = [matmul(xpad[index].reshape(-1, c).T, g2) for _, _, index in offsets]
            gk = stack(parts).reshape(k_shape)
        if self.needs_input_grad[0]:
            k4 = graph_input(self, 1, self.k4.reshape(k_shape)).reshape(kh, kw, c, f)
            gpad = self.xp.zeros((n, h + t + b_, w + left + r, c), dtype=g.dtype)
            for a, b, index in offsets:
                gpad[index] += matmul(g2, k4[a, b].T).reshape(n, out_hw[0], out_hw[1], c)
            gx = gpad[:, t : t + h, left : left + w].reshape(x_shape)
        return gx, gk

    @staticmethod
    def _input_grad(xp, g2, k4, x4_shape, pads, out_hw, strides, dilation, bias=None):
        """Sum over kernel offsets (a, b) of g @ kernel[a, b]^T, added at the cells offset (a, b) reads.

        Returns the (N, H, W, C) crop of the padded sums (a view), or with ``bias`` (C,) a new contiguous array of
        the crop plus ``bias`` (what ``crop + bias`` gives, bit for bit). Each piece of images zeroes its own
        padded cells, sums into them and (with ``bias``) writes its output images, all in the one split: no serial
        pass over the batch before or after it.
        """
        n, h, w, c = x4_shape
        kh, kw = k4.shape[:2]
        (t, b_), (left, r) = pads
        if xp is not numpy and conv_cuda.applies(g2):  # cuda: one matmul and one col2im launch (ops/conv_cuda.py)
            gpad = conv_cuda.input_grad(g2, k4, (n, h + t + b_, w + left + r, c), out_hw, strides, dilation)
            return _crop(gpad, pads, h, w) if bias is None else _crop(gpad, pads, h, w) + bias
        gpad = xp.empty((n, h + t + b_, w + left + r, c), dtype=g2.dtype)
        crop = _crop(gpad, pads, h, w)
        out = None if bias is None else xp.empty(crop.shape, dtype=xp.result_type(crop, bias))

        def finish(first, end):  # this piece's output images, once its sums are complete
            if out is not None:
                xp.add(crop[first:end], bias, out=out[first:end])

        # blocks as the forward's, sized by the im2col they stand for; the matmul's (rows, C) result is smaller
        row_bytes = out_hw[1] * kh * kw * c * g2.dtype.itemsize
        col2im = conv_kernels.col2im_kernel(xp, gpad.size)
        if col2im is not None:  # numba: one matmul per block, then col2im in one compiled pass
            kt = k4.reshape(kh * kw * c, -1).T
            dtype = numpy.result_type(g2, kt)

            def run(first, end):  # pieces of whole images: each image's cells get sums from one thread only
                gpad[first:end] = 0
                for block in piece_blocks(xp, first, end, out_hw, row_bytes, k4.nbytes):
                    n0, n1, h0, h1 = block
                    rows = block_rows(block, out_hw)
                    d = _windows.scratch(numpy, (rows.stop - rows.start) * kt.shape[1], dtype).reshape(-1, kt.shape[1])
                    numpy.matmul(g2[rows], kt, out=d)
                    col2im(d, n0, h0, h1 - h0, out_hw[1], kh, kw, *strides, *dilation, gpad)
                finish(first, end)

            over_pieces(xp, run, n, n * out_hw[0] * row_bytes // g2.dtype.itemsize)
            return crop if out is None else out

        def run_numpy(first, end):  # as run above, one matmul per kernel offset
            gpad[first:end] = 0
            blocks = piece_blocks(xp, first, end, out_hw, row_bytes, k4.nbytes)
            n0, n1, h0, h1 = blocks[0]
            tmp = xp.empty(((n1 - n0) * (h1 - h0) * out_hw[1], c), dtype=g2.dtype)  # the first block is the largest
            for block in blocks:
                n0, n1, h0, h1 = block
                rows = block_rows(block, out_hw)
                gb = g2[rows]
                part = tmp[: rows.stop - rows.start]
                for a in range(kh):
                    ys = offset_slice(a, dilation[0], strides[0], h1 - h0)  # block rows start at padded row h0 * s
                    ys = slice(ys.start + h0 * strides[0], ys.stop + h0 * strides[0], ys.step)
                    for b in range(kw):
                        xs = offset_slice(b, dilation[1], strides[1], out_hw[1])
                        xp.matmul(gb, k4[a, b].T, out=part)
                        gpad[n0:n1, ys, xs] += part.reshape(n1 - n0, h1 - h0, out_hw[1], c)
            finish(first, end)

        over_pieces(xp, run_numpy, n, n * out_hw[0] * row_bytes // g2.dtype.itemsize)
        return crop if out is None else out


class DepthwiseConv(Function):
    """Depthwise 2-D convolution: each input channel has its own ``depth_multiplier`` filters.

    Shapes: x (N, H, W, C), kernel (KH, KW, C, M) -> (N, OH, OW, C * M), output
    channel ``c * M + m`` from input channel ``c`` and filter ``m``.
    Runs as KH*KW broadcast multiply-adds (no im2col: the work per output is small), or with numba as one
    compiled pass per direction (:func:`ember.ops.conv_kernels.depthwise_kernels`: 8-9x faster at 3x3).
    """

    name = "depthwise_conv2d"
    graph_saved = {"kernel": 1}  # the input: _backward_on_tensors

    def forward(self, x, kernel, strides, padding, dilation_rate):
        op = self.name
        _check_input(op, x, 2)
        check_rank(op, "kernel", kernel.shape, 4, "(kh, kw, in_channels, depth_multiplier)")
        if kernel.shape[2] != x.shape[-1]:
            raise ValueError(
                f"{op}: kernel expects {kernel.shape[2]} input channels but the input has {x.shape[-1]} "
                f"(input shape {x.shape}, kernel shape {kernel.shape})"
            )
        xp = self.xp
        n, h, w, c = x.shape
        kh, kw, _, m = kernel.shape
        out_hw, pads = spatial_geometry(op, padding, (h, w), (kh, kw), strides, dilation_rate)
        xpad = pad_spatial(xp, x, pads)
        out = xp.empty((n,) + out_hw + (c, m), dtype=xp.result_type(x, kernel))
        loops = None
        if x.dtype == kernel.dtype and x.dtype.kind == "f":
            loops = conv_kernels.depthwise_kernels(xp, out.size, m)
        if loops is not None:  # numba: one pass over the output cells (ops/conv_kernels.py)
            xpad, kernel = xp.ascontiguousarray(xpad), xp.ascontiguousarray(kernel)
            loops[0](xpad, kernel, strides[0], strides[1], dilation_rate[0], dilation_rate[1], out)
            self.loops, self.geometry_dtype = loops, out.dtype
        else:
            tmp = xp.empty_like(out) if kh * kw > 1 else None
            for a, b, xs in self._offsets(xpad, kernel.shape, out_hw, strides, dilation_rate):
                if a == 0 and b == 0:
                    xp.multiply(xs[..., None], kernel[a, b], out=out)
                else:
                    xp.multiply(xs[..., None], kernel[a, b], out=tmp)
                    out += tmp
        if self.needs_input_grad[1]:
            self.xpad = xpad
        if self.needs_input_grad[0]:
            self.kernel = kernel
        self.geometry = (x.shape, kernel.shape, xpad.shape, out_hw, pads, strides, dilation_rate)
        return out.reshape((n,) + out_hw + (c * m,))

    @staticmethod
    def _offsets(xpad, k_shape, out_hw, strides, dilation):
        """(a, b, strided view of the input cells that kernel offset (a, b) reads)."""
        for a in range(k_shape[0]):
            rows = offset_slice(a, dilation[0], strides[0], out_hw[0])
            for b in range(k_shape[1]):
                yield a, b, xpad[:, rows, offset_slice(b, dilation[1], strides[1], out_hw[1])]

    def backward(self, g):
        if getattr(self.xp, "graph", False):  # backward(create_graph=True): the same sums with Ember ops
            return self._backward_on_tensors(g)
        x_shape, k_shape, pad_shape, out_hw, pads, strides, dilation = self.geometry
        xp = self.xp
        n, h, w, c = x_shape
        g5 = g.reshape((n,) + out_hw + (c, k_shape[3]))
        gx = gk = None
        loops = getattr(self, "loops", None)
        if loops is not None and g.dtype == self.geometry_dtype:  # numba, as the forward
            g5 = xp.ascontiguousarray(g5)
            s_d = (strides[0], strides[1], dilation[0], dilation[1])
            if self.needs_input_grad[1]:
                gk = xp.zeros(k_shape, dtype=g.dtype)
                loops[2](self.xpad, g5, *s_d, xp.empty_like(gk), gk)
            if self.needs_input_grad[0]:
                gpad = xp.zeros(pad_shape, dtype=g.dtype)
                loops[1](g5, self.kernel, *s_d, gpad)
                gx = _crop(gpad, pads, h, w)
            return gx, gk
        if self.needs_input_grad[1]:
            gk = xp.empty(k_shape, dtype=g.dtype)
            for a, b, xs in self._offsets(self.xpad, k_shape, out_hw, strides, dilation):
                gk[a, b] = xp.einsum("nhwc,nhwcm->cm", xs, g5)
        if self.needs_input_grad[0]:
            gpad = xp.zeros(pad_shape, dtype=g.dtype)
            for a, b, gs in self._offsets(gpad, k_shape, out_hw, strides, dilation):
                gs += xp.einsum("nhwcm,cm->nhwc", g5, self.kernel[a, b])
            gx = _crop(gpad, pads, h, w)
        return gx, gk

    def _backward_on_tensors(self, g):
        """For create_graph: per kernel offset, gk[a, b] = sum(window * g) and g * kernel[a, b] added back."""
        from ..engine.autograd import graph_input
        from .shaping import pad, stack

        x_shape, k_shape, pad_shape, out_hw, pads, strides, dilation = self.geometry
        n, h, w, c = x_shape
        (t, b_), (left, r) = pads
        g5 = g.reshape((n,) + out_hw + (c, k_shape[3]))
        gx = gk = None
        if self.needs_input_grad[1]:
            x = graph_input(self, 0, _crop(self.xpad, pads, h, w))
            xpad = pad(x, ((0, 0), (t, b_), (left, r), (0, 0))) if (t or b_ or left or r) else x
            parts = [
                (xs[..., None] * g5).sum(axis=(0, 1, 2))
                for _, _, xs in self._offsets(xpad, k_shape, out_hw, strides, dilation)
            ]
            gk = stack(parts).reshape(k_shape)
        if self.needs_input_grad[0]:
            gpad = self.xp.zeros(pad_shape, dtype=g.dtype)
            for a in range(k_shape[0]):
                rows = offset_slice(a, dilation[0], strides[0], out_hw[0])
                for b in range(k_shape[1]):
                    cols = offset_slice(b, dilation[1], strides[1], out_hw[1])
                    gpad[:, rows, cols] += (g5 * self.kernel[a, b]).sum(axis=-1)
            gx = gpad[:, t : t + h, left : left + w]
        return gx, gk


def _transpose_geometry(op, n_in, k, s, d, padding, output_padding):
    """(output size, cells cropped from the start of the full transposed conv) for one axis.

    The full transposed convolution of ``n_in`` cells has ``(n_in - 1) * s + k_eff``
    cells. Keras (as JAX's conv_transpose) pads the stride-dilated input by
    ``left`` and ``right`` and correlates with the flipped kernel; in terms of
    the full result that is a crop of ``k_eff - 1 - left`` cells at the start,
    and the output size below (zeros where it reaches past the full result).
    """
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        extra = max(k_eff, s) - k_eff if output_padding is None else output_padding
        left, right = k_eff - 1, k_eff - 1 + extra
    else:
        total = s + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, k_eff - 1)
        right = total - left
    out = (n_in - 1) * s + left + right - k_eff + 2
    if out <= 0:
        raise ValueError(f"{op}: input size {n_in} gives an empty output (kernel {k}, stride {s}, padding {padding!r})")
    return out, k_eff - 1 - left


class ConvTranspose(Function):
    """Transposed 2-D convolution (the input gradient of conv2d), Keras layout and output shapes.

    Shapes: x (N, H, W, C), kernel (KH, KW, F, C) -> (N, OH, OW, F) with, per
    axis, OH = (H - 1) * s + max(k_eff, s) for "valid" and H * s for "same"
    when ``output_padding`` is None (see ``_transpose_geometry`` otherwise).
    Forward: the input gradient of a conv2d (:meth:`Conv2D._input_grad`: one matmul per block and a
    compiled col2im with numba, else one matmul per kernel offset) into a zero buffer, then a crop; no
    stride-dilated zeros are made. Gradients: the conv2d forward of the (uncropped) output gradient
    (:func:`correlate`) and its kernel gradient (:func:`kernel_grad`), in blocks.
    """

    name = "conv2d_transpose"
    graph_saved = {"kernel": 1}  # the input: _backward_on_tensors

    def forward(self, x, kernel, strides, padding, output_padding, dilation_rate):
        op = self.name
        _check_input(op, x, 2)
        check_rank(op, "kernel", kernel.shape, 4, "(kh, kw, out_channels, in_channels)")
        if kernel.shape[3] != x.shape[-1]:
            raise ValueError(
                f"{op}: kernel expects {kernel.shape[3]} input channels (its last axis) but the input has "
                f"{x.shape[-1]} (input shape {x.shape}, kernel shape {kernel.shape})"
            )
        xp = self.xp
        n, h, w, c = x.shape
        kh, kw, f, _ = kernel.shape
        if h == 0 or w == 0:
            raise ValueError(f"{op}: expected non-empty spatial axes, got input shape {x.shape}")
        geo = [
            _transpose_geometry(op, size, k, s, d, padding, p)
            for size, k, s, d, p in zip((h, w), (kh, kw), strides, dilation_rate, output_padding)
        ]
        (oh, crop_h), (ow, crop_w) = geo
        full = [(size - 1) * s + (k - 1) * d + 1 for size, k, s, d in zip((h, w), (kh, kw), strides, dilation_rate)]
        buf_shape = (n, max(full[0], crop_h + oh), max(full[1], crop_w + ow), f)
        dtype = xp.result_type(x, kernel)
        x2 = x.reshape(-1, c).astype(dtype, copy=False)
        # the input gradient of a conv2d whose input is the (cropped) buffer and whose kernel is this one
        pads = ((crop_h, buf_shape[1] - crop_h - oh), (crop_w, buf_shape[2] - crop_w - ow))
        bias = getattr(self, "bias", None)  # ConvTransposeBias: added as each piece's images are finished
        out = Conv2D._input_grad(xp, x2, kernel, (n, oh, ow, f), pads, (h, w), strides, dilation_rate, bias=bias)
        if self.needs_input_grad[1]:
            self.x2 = x2
        if self.needs_input_grad[0]:
            self.kernel = kernel
        self.geometry = (x.shape, kernel.shape, buf_shape, (crop_h, crop_w), (oh, ow), strides, dilation_rate)
        return out

    def backward(self, g):
        x_shape, k_shape, buf_shape, (crop_h, crop_w), (oh, ow), strides, dilation = self.geometry
        xp = self.xp
        n, h, w, c = x_shape
        kh, kw, f, _ = k_shape
        pads = ((crop_h, buf_shape[1] - crop_h - oh), (crop_w, buf_shape[2] - crop_w - ow))
        if getattr(xp, "graph", False):  # backward(create_graph=True): the windows one offset at a time
            gbuf = g
            if buf_shape[1:3] != (oh, ow):
                gbuf = xp.zeros(buf_shape, dtype=g.dtype)
                gbuf[:, crop_h : crop_h + oh, crop_w : crop_w + ow] = g
            return self._grads_on_tensors(gbuf)
        gbuf, fill = pad_in_pieces(xp, g, pads)  # g zero-padded to the buffer, by each piece as it starts
        gx = gk = None
        if all(self.needs_input_grad[:2]):  # both from one im2col of each block of the output gradient
            gx, gk = _correlate_and_kernel_grad(xp, gbuf, self.kernel, self.x2, (h, w), strides, dilation, fill)
            return gx.reshape(x_shape), gk.reshape(k_shape)
        if self.needs_input_grad[0]:  # conv2d of the output gradient with the kernel (KH, KW, F, C)
            gx = correlate(xp, gbuf, self.kernel, (h, w), strides, dilation, fill=fill).reshape(x_shape)
        if self.needs_input_grad[1]:
            gk = kernel_grad(xp, gbuf, self.x2, (kh, kw), (h, w), strides, dilation, fill).reshape(k_shape)
        return gx, gk

    def _grads_on_tensors(self, gbuf):
        """For create_graph: gx = sum over offsets of window(a, b) @ kernel[a, b], gk[a, b] = window^T @ x."""
        from ..engine.autograd import graph_input
        from .arithmetic import matmul
        from .shaping import stack

        x_shape, k_shape, _, _, _, strides, dilation = self.geometry
        n, h, w, c = x_shape
        kh, kw, f, _ = k_shape
        windows = []
        for a in range(kh):
            rows = offset_slice(a, dilation[0], strides[0], h)
            for b in range(kw):
                windows.append((a, b, gbuf[:, rows, offset_slice(b, dilation[1], strides[1], w)].reshape(-1, f)))
        gx = gk = None
        if self.needs_input_grad[0]:
            gx = sum(matmul(win, self.kernel[a, b]) for a, b, win in windows).reshape(x_shape)
        if self.needs_input_grad[1]:
            x2 = graph_input(self, 0, self.x2.reshape(x_shape)).reshape(-1, c)
            gk = stack([matmul(win.T, x2) for _, _, win in windows]).reshape(k_shape)
        return gx, gk


class ConvTransposeBias(ConvTranspose):
    """conv2d_transpose + bias as one op: what a Conv2DTranspose layer with a bias computes before its activation.

    Shapes: as :class:`ConvTranspose`, plus bias (F,). The bias is added as each piece of images is finished
    (:meth:`Conv2D._input_grad`), inside the split that sums it, into a new contiguous output: the same bits as
    ``conv2d_transpose(x, kernel) + bias``, without the serial pass over the batch (and the zeroing of the
    padded sums before it) that the separate add made. Backward: the transposed convolution's, and the bias's
    gradient summed over (N, OH, OW) in parts at once (:func:`ember.ops.conv_kernels.bias_grad`; float32-close
    to the add's broadcast sum, not bitwise).
    """

    graph_saved = {"kernel": 1}
    owns_output = True  # forward returns a new array (the biased copy): compile/forward_plan.py may write into it

    def forward(self, x, kernel, bias, strides, padding, output_padding, dilation_rate):
        f = kernel.shape[2] if len(kernel.shape) == 4 else None
        if f is None or bias.shape != (f,):
            raise ValueError(
                f"{self.name}: expected a bias of shape ({f},) (one per output channel of kernel {kernel.shape}, "
                f"layout (kh, kw, out_channels, in_channels)), got shape {bias.shape}"
            )
        self.bias = bias
        out = super().forward(x, kernel, strides, padding, output_padding, dilation_rate)
        self.bias = None  # not kept for backward
        return out

    def backward(self, g):
        gb = None
        if self.needs_input_grad[2]:  # create_graph: Ember's sum; else the pieces' float64 sums in parts at once
            f = g.shape[-1]
            graph = getattr(self.xp, "graph", False)
            gb = g.sum(axis=(0, 1, 2)) if graph else conv_kernels.bias_grad(self.xp, g.reshape(-1, f))
        gx = gk = None
        if any(self.needs_input_grad[:2]):
            gx, gk = super().backward(g)
        return gx, gk, gb


def conv_transpose_bias(x, kernel, bias, strides=(1, 1), padding="valid", output_padding=None, dilation_rate=(1, 1)):
    """``conv2d_transpose(x, kernel, ...) + bias`` as one op (:class:`ConvTransposeBias`); arguments as
    :func:`conv2d_transpose`, ``bias`` (out_channels,)."""
    return _conv_transpose(ConvTransposeBias, (x, kernel, bias), strides, padding, output_padding, dilation_rate)


class Conv1D(Conv2D):
    """1-D convolution, run as 2-D with a height of 1 (views, no copies).

    Shapes: x (N, L, C), kernel (KW, C, F) -> (N, OL, F).
    """

    name = "conv1d"
    spatial = 1


class _BiasAct:
    """A convolution with its layer's bias added and, optionally, a ReLU applied, as one op.

    Shapes: as the convolution, plus bias (F,). ``relu``: ``max(conv + bias, 0)``. The bias and ReLU run in
    one pass over the convolution's fresh output, in place (:func:`ember.ops.conv_kernels.bias_act_forward`);
    backward masks the output gradient and sums the bias gradient in one pass, then runs the convolution's
    backward on the masked gradient. The same numbers as conv, add and relu applied one after another.
    """

    graph_saved = {}  # _backward_on_tensors: the convolution's own; the ReLU mask is a constant

    def forward(self, x, kernel, bias, relu=False, **attrs):
        f = kernel.shape[-1]
        if bias.shape != (f,):
            raise ValueError(
                f"{self.name}: expected a bias of shape ({f},) (one per output channel of kernel {kernel.shape}), "
                f"got shape {bias.shape}"
            )
        self.fuse_bias = (bias, relu)  # a Winograd forward adds them in its output transform (bias_applied)
        out = super().forward(x, kernel, **attrs)
        if not getattr(self, "bias_applied", False):
            if not out.flags.c_contiguous:  # (a fresh array: never, today) in place needs a contiguous one
                out = self.xp.ascontiguousarray(out)
            conv_kernels.bias_act_forward(self.xp, out.reshape(-1, f), bias, relu)
        self.relu = relu
        if relu and any(self.needs_input_grad):
            self.activated = out  # the output: its positive cells are the ReLU's mask
        return out

    def backward(self, g):
        f = g.shape[-1]
        if getattr(self.xp, "graph", False):  # create_graph: the mask as a constant, the sums as Ember ops
            gm = g * (self.activated > 0) if self.relu else g
            gb = gm.reshape(-1, f).sum(axis=0) if self.needs_input_grad[2] else None
            gx, gk = super().backward(gm) if any(self.needs_input_grad[:2]) else (None, None)
            return gx, gk, gb
        out2 = self.activated.reshape(-1, f) if self.relu else None
        gm, gb = conv_kernels.bias_act_backward(self.xp, g.reshape(-1, f), out2, self.relu, self.needs_input_grad[2])
        gx = gk = None
        if any(self.needs_input_grad[:2]):
            gx, gk = super().backward(gm.reshape(g.shape))
        return gx, gk, gb


class Conv2DBiasAct(_BiasAct, Conv2D):
    """conv2d + bias (+ relu) as one op (:class:`_BiasAct`)."""


class Conv1DBiasAct(_BiasAct, Conv1D):
    """conv1d + bias (+ relu) as one op (:class:`_BiasAct`)."""


def conv_bias_act(x, kernel, bias, strides, padding, dilation_rate, relu=False):
    """``conv(x, kernel) + bias``, then ``relu`` when asked, as one op: what a Conv1D/Conv2D layer with a bias and
    no or a ReLU activation computes (its ``call`` takes this). Arguments as :func:`conv1d`/:func:`conv2d`
    (the rank from ``x``: 3 for 1-D, 4 for 2-D); ``bias`` (out_channels,)."""
    fn = Conv1DBiasAct if len(x.shape) == 3 else Conv2DBiasAct
    return _conv(fn, (x, kernel, bias), strides, padding, dilation_rate, relu=bool(relu))


def _conv(fn, inputs, strides, padding, dilation_rate, **attrs):
    """``fn.apply(*inputs, ...)`` with the arguments checked and a 1-D convolution's given a leading 1."""
    op = fn.name
    strides = as_tuple(op, "strides", strides, fn.spatial)
    dilation_rate = as_tuple(op, "dilation_rate", dilation_rate, fn.spatial)
    padding = check_padding(op, padding)
    if fn.spatial == 1:
        strides, dilation_rate = (1,) + strides, (1,) + dilation_rate
    return fn.apply(*inputs, strides=strides, padding=padding, dilation_rate=dilation_rate, **attrs)


def conv1d(x, kernel, strides=1, padding="valid", dilation_rate=1):
    """1-D convolution (cross-correlation) of channels-last ``x``, as ``keras.ops.conv``.

    Args:
        x: input of shape (batch, steps, in_channels).
        kernel: filters of shape (kernel_size, in_channels, out_channels).
        strides: step between windows (int or 1-tuple).
        padding: "valid" (no padding) or "same" (output length ceil(steps / strides)).
        dilation_rate: spacing between kernel taps (int or 1-tuple).

    Returns:
        A tensor of shape (batch, new_steps, out_channels).
    """
    return _conv(Conv1D, (x, kernel), strides, padding, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """2-D convolution (cross-correlation) of channels-last ``x``, as ``keras.ops.conv``.

    Args:
        x: input of shape (batch, height, width, in_channels).
        kernel: filters of shape (kh, kw, in_channels, out_channels).
        strides: step between windows (int or pair).
        padding: "valid" (no padding) or "same" (output ceil(size / stride), extra
            padding at the bottom/right as TensorFlow).
        dilation_rate: spacing between kernel taps (int or pair).

    Returns:
        A tensor of shape (batch, new_height, new_width, out_channels).

    Example:
        >>> y = ember.conv2d(ember.ones((8, 28, 28, 1)), ember.ones((3, 3, 1, 16)), padding="same")
        >>> y.shape
        (8, 28, 28, 16)
    """
    return _conv(Conv2D, (x, kernel), strides, padding, dilation_rate)


def conv2d_transpose(x, kernel, strides=(1, 1), padding="valid", output_padding=None, dilation_rate=(1, 1)):
    """Transposed 2-D convolution (the gradient of conv2d), as ``keras.ops.conv_transpose``.

    Args:
        x: input of shape (batch, height, width, in_channels).
        kernel: filters of shape (kh, kw, out_channels, in_channels) (Keras's Conv2DTranspose layout).
        strides: upsampling factor (int or pair).
        padding: "valid" or "same".
        output_padding: None (Keras's default sizes: (size - 1) * stride + max(kernel, stride)
            for "valid", size * stride for "same") or an int/pair of extra cells
            (then (size - 1) * stride + kernel + output_padding for "valid",
            (size - 1) * stride + kernel % 2 + output_padding for "same").
        dilation_rate: spacing between kernel taps (int or pair).

    Returns:
        A tensor of shape (batch, new_height, new_width, out_channels).
    """
    return _conv_transpose(ConvTranspose, (x, kernel), strides, padding, output_padding, dilation_rate)


def _conv_transpose(fn, inputs, strides, padding, output_padding, dilation_rate):
    """``fn.apply(*inputs, ...)`` with a transposed convolution's arguments checked."""
    op = "conv2d_transpose"
    strides = as_tuple(op, "strides", strides, 2)
    dilation_rate = as_tuple(op, "dilation_rate", dilation_rate, 2)
    padding = check_padding(op, padding)
    if output_padding is None:
        output_padding = (None, None)
    else:
        output_padding = as_tuple(op, "output_padding", output_padding, 2, minimum=0)
    return fn.apply(
        *inputs, strides=strides, padding=padding, output_padding=output_padding, dilation_rate=dilation_rate
    )


def depthwise_conv2d(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """Depthwise 2-D convolution of channels-last ``x``, as ``keras.ops.depthwise_conv``.

    Args:
        x: input of shape (batch, height, width, channels).
        kernel: filters of shape (kh, kw, channels, depth_multiplier).
        strides, padding, dilation_rate: as :func:`conv2d`.

    Returns:
        A tensor of shape (batch, new_height, new_width, channels * depth_multiplier);
        channel ``c * depth_multiplier + m`` is input channel ``c`` through filter ``m``.
    """
    op = "depthwise_conv2d"
    strides = as_tuple(op, "strides", strides, 2)
    dilation_rate = as_tuple(op, "dilation_rate", dilation_rate, 2)
    padding = check_padding(op, padding)
    return DepthwiseConv.apply(x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate)
