"""Max and average pooling in Keras's channels-last layout (1-D and 2-D).

- 1-D: x (batch, steps, channels); 2-D: x (batch, height, width, channels).
- ``strides`` default to ``pool_size``; padding "valid" or "same" (TensorFlow's:
  output ceil(size / stride), the odd padding cell at the bottom/right).
- With "same", max pooling ignores the padded cells and average pooling
  divides by the number of real cells in each window (as Keras/TensorFlow).

Both run as a loop over the pool offsets (kh*kw strided views, vectorised over
batch, pixels and channels). Max pooling sends each window's gradient to one
cell, the first maximum in row-major window order (PyTorch's rule on ties).
With numba, a large max pool instead runs one compiled pass each way
(:mod:`ember.ops.pooling_kernels`): the forward records each window's winner
(one byte per output), the backward routes the gradient by it; same numbers.
"""

from __future__ import annotations

from ..engine.dtypes import is_floating
from ..engine.function import Function
from . import pooling_cuda, pooling_kernels
from ._windows import as_2d_input, as_tuple, check_padding, check_rank, offset_slice, pad_spatial, spatial_geometry

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]

_LAYOUT = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


class _Pool(Function):
    """Shared set-up of the pooling ops: shape checks, geometry, padded input."""

    spatial = 2

    def _prepare(self, x, pool, strides, padding, fill):
        check_rank(self.name, "input", x.shape, self.spatial + 2, _LAYOUT[self.spatial])
        x4 = as_2d_input(x)
        out_hw, pads = spatial_geometry(self.name, padding, x4.shape[1:3], pool, strides, (1, 1))
        self.geometry = (x.shape, x4.shape, out_hw, pads, pool, strides)
        return pad_spatial(self.xp, x4, pads, fill), out_hw

    def _offsets(self, a4, out_hw, pool, strides):
        """(first?, strided view of the cells that pool offset (a, b) covers), in row-major order."""
        for a in range(pool[0]):
            rows = offset_slice(a, 1, strides[0], out_hw[0])
            for b in range(pool[1]):
                yield a == 0 and b == 0, a4[:, rows, offset_slice(b, 1, strides[1], out_hw[1])]

    def _output(self, out4):
        n, oh, ow, c = out4.shape
        return out4.reshape(n, ow, c) if self.spatial == 1 else out4

    def _input_grad(self, gpad):
        x_shape, (n, h, w, c), _, ((t, _), (left, _)), _, _ = self.geometry
        return gpad[:, t : t + h, left : left + w].reshape(x_shape)

    def _scatter_on_tensors(self, terms, dtype):
        """For create_graph: the input gradient from one tensor per pool offset (row-major), with Ember ops."""
        _, (n, h, w, c), out_hw, pads, pool, strides = self.geometry
        gpad = self.xp.zeros((n, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], c), dtype=dtype)
        k = 0
        for a in range(pool[0]):
            rows = offset_slice(a, 1, strides[0], out_hw[0])
            for b in range(pool[1]):
                gpad[:, rows, offset_slice(b, 1, strides[1], out_hw[1])] += terms[k]
                k += 1
        return self._input_grad(gpad)


class MaxPool2D(_Pool):
    """Maximum over each window.

    Shapes: x (N, H, W, C) -> (N, OH, OW, C). The gradient of each output goes
    to the first cell of its window holding the maximum (padding never wins).
    """

    name = "max_pool2d"
    graph_saved = {}  # the routing is a constant of the backward: _backward_on_tensors

    def forward(self, x, pool, strides, padding):
        xp = self.xp
        fill = -xp.inf if is_floating(x.dtype) else xp.iinfo(x.dtype).min
        xpad, out_hw = self._prepare(x, pool, strides, padding, fill)
        on_gpu = pooling_cuda.applies(xp, xpad, pool)  # cuda: the same kernels' GPU form (ops/pooling_cuda.py)
        if on_gpu or pooling_kernels.kernels_apply(xp, x.shape[0] * out_hw[0] * out_hw[1] * x.shape[-1], pool):
            kernels = pooling_cuda if on_gpu else pooling_kernels
            out, winner = kernels.max_pool_forward(xpad, out_hw, pool, strides)
            if self.needs_input_grad[0]:
                self.winner, self.pad_shape = winner, xpad.shape
            return self._output(out)
        out = None
        for first, xs in self._offsets(xpad, out_hw, pool, strides):
            if first:
                out = xs.copy()
            else:
                xp.maximum(out, xs, out=out)  # NaN propagates, as in PyTorch
        if self.needs_input_grad[0]:
            self.xpad, self.out = xpad, out
        return self._output(out)

    def backward(self, g):
        xp = self.xp
        _, _, out_hw, _, pool, strides = self.geometry
        if getattr(xp, "graph", False):
            return self._backward_on_tensors(g)
        if hasattr(self, "winner"):  # the forward ran the kernel and recorded each window's winner
            g4 = g.reshape(self.winner.shape)
            kernels = pooling_cuda if pooling_cuda.applies(xp, g4, pool) else pooling_kernels
            return self._input_grad(kernels.max_pool_backward(g4, self.winner, self.pad_shape, pool, strides))
        xpad, out = self.xpad, self.out
        g4 = g.reshape(out.shape)
        gpad = xp.zeros(xpad.shape, dtype=g.dtype)
        overlap = strides[0] < pool[0] or strides[1] < pool[1]
        free = xp.ones(out.shape, dtype=bool)  # windows whose maximum is not routed yet
        hit = xp.empty(out.shape, dtype=bool)
        tmp = xp.empty(out.shape, dtype=g.dtype) if overlap else None
        last = pool[0] * pool[1] - 1
        offsets = zip(self._offsets(xpad, out_hw, pool, strides), self._offsets(gpad, out_hw, pool, strides))
        for i, ((_, xs), (_, gs)) in enumerate(offsets):
            xp.equal(xs, out, out=hit)
            hit &= free
            if overlap:
                xp.multiply(g4, hit, out=tmp)
                gs += tmp
            else:  # windows do not overlap: each input cell is written once
                xp.multiply(g4, hit, out=gs)
            if i < last:
                free ^= hit
        return self._input_grad(gpad)

    def _backward_on_tensors(self, g):
        """For create_graph: g routed by constant masks (which offset won each window), with Ember ops."""
        _, _, out_hw, _, pool, strides = self.geometry
        if hasattr(self, "winner"):
            g4 = g.reshape(self.winner.shape)
            masks = [self.winner == k for k in range(pool[0] * pool[1])]
        else:
            g4 = g.reshape(self.out.shape)
            masks, free = [], None
            for _, xs in self._offsets(self.xpad, out_hw, pool, strides):
                hit = xs == self.out
                hit = hit if free is None else hit & free
                free = ~hit if free is None else free & ~hit
                masks.append(hit)
        return self._scatter_on_tensors([g4 * m for m in masks], g.dtype)


class MaxPool1D(MaxPool2D):
    """Maximum over each window of a sequence. Shapes: x (N, L, C) -> (N, OL, C)."""

    name = "max_pool1d"
    spatial = 1


class AvgPool2D(_Pool):
    """Mean over each window (with "same", over its real cells only).

    Shapes: x (N, H, W, C) -> (N, OH, OW, C). Each input cell gets the
    gradients of the windows covering it, each divided by that window's count.
    """

    name = "avg_pool2d"
    graph_saved = {}  # the counts are constants: _scatter_on_tensors when run on tensors

    def forward(self, x, pool, strides, padding):
        xp = self.xp
        xpad, out_hw = self._prepare(x, pool, strides, padding, 0)
        total = None
        for first, xs in self._offsets(xpad, out_hw, pool, strides):
            if first:
                total = xs.astype(xp.result_type(xs.dtype, xp.float32) if not is_floating(xs.dtype) else xs.dtype)
            else:
                total += xs
        self.counts = self._counts(xp, x.shape, total.dtype)
        total /= self.counts
        return self._output(total)

    def _counts(self, xp, x_shape, dtype):
        """Real cells per window: a scalar without padding, else (OH, OW, 1) (padding is separable)."""
        _, (_, h, w, _), (oh, ow), pads, pool, strides = self.geometry
        if not any(pads[0] + pads[1]):
            return pool[0] * pool[1]
        per_axis = []
        for size, out, (before, _), k, s in zip((h, w), (oh, ow), pads, pool, strides):
            start = xp.arange(out) * s - before
            per_axis.append(xp.minimum(start + k, size) - xp.maximum(start, 0))
        return (per_axis[0][:, None] * per_axis[1][None, :])[:, :, None].astype(dtype)

    def backward(self, g):
        xp = self.xp
        _, (n, h, w, c), out_hw, pads, pool, strides = self.geometry
        g4 = g.reshape((n,) + out_hw + (c,)) / self.counts
        if getattr(xp, "graph", False):  # create_graph: every offset gets g4, with Ember ops
            return self._scatter_on_tensors([g4] * (pool[0] * pool[1]), g4.dtype)
        pad_shape = (n, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], c)
        overlap = strides[0] < pool[0] or strides[1] < pool[1]
        gpad = (xp.zeros if overlap else xp.empty)(pad_shape, dtype=g4.dtype)
        if not overlap and (strides != pool or pad_shape[1:3] != (out_hw[0] * pool[0], out_hw[1] * pool[1])):
            gpad[...] = 0  # some cells are in no window
        for _, gs in self._offsets(gpad, out_hw, pool, strides):
            if overlap:
                gs += g4
            else:
                gs[...] = g4
        return self._input_grad(gpad)


class AvgPool1D(AvgPool2D):
    """Mean over each window of a sequence. Shapes: x (N, L, C) -> (N, OL, C)."""

    name = "avg_pool1d"
    spatial = 1


def _pool(fn, x, pool_size, strides, padding):
    op, spatial = fn.name, fn.spatial
    pool = as_tuple(op, "pool_size", pool_size, spatial)
    strides = pool if strides is None else as_tuple(op, "strides", strides, spatial)
    padding = check_padding(op, padding)
    if spatial == 1:
        pool, strides = (1,) + pool, (1,) + strides
    return fn.apply(x, pool=pool, strides=strides, padding=padding)


def max_pool1d(x, pool_size, strides=None, padding="valid"):
    """Max pooling over steps of ``x`` (batch, steps, channels), as ``keras.ops.max_pool``.

    Args:
        x: input of shape (batch, steps, channels).
        pool_size: window length (int or 1-tuple).
        strides: step between windows; defaults to ``pool_size``.
        padding: "valid" or "same" (padded cells never win).

    Returns:
        A tensor of shape (batch, new_steps, channels).
    """
    return _pool(MaxPool1D, x, pool_size, strides, padding)


def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """Max pooling of ``x`` (batch, height, width, channels), as ``keras.ops.max_pool``.

    Args:
        x: input of shape (batch, height, width, channels).
        pool_size: window size (int or pair).
        strides: step between windows (int or pair); defaults to ``pool_size``.
        padding: "valid" or "same" (padded cells never win).

    Returns:
        A tensor of shape (batch, new_height, new_width, channels).
    """
    return _pool(MaxPool2D, x, pool_size, strides, padding)


def avg_pool1d(x, pool_size, strides=None, padding="valid"):
    """Average pooling over steps of ``x`` (batch, steps, channels), as ``keras.ops.average_pool``.

    Args:
        x: input of shape (batch, steps, channels).
        pool_size: window length (int or 1-tuple).
        strides: step between windows; defaults to ``pool_size``.
        padding: "valid" or "same" (each window is divided by its count of real cells).

    Returns:
        A tensor of shape (batch, new_steps, channels).
    """
    return _pool(AvgPool1D, x, pool_size, strides, padding)


def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """Average pooling of ``x`` (batch, height, width, channels), as ``keras.ops.average_pool``.

    Args:
        x: input of shape (batch, height, width, channels).
        pool_size: window size (int or pair).
        strides: step between windows (int or pair); defaults to ``pool_size``.
        padding: "valid" or "same" (each window is divided by its count of real cells).

    Returns:
        A tensor of shape (batch, new_height, new_width, channels).
    """
    return _pool(AvgPool2D, x, pool_size, strides, padding)
