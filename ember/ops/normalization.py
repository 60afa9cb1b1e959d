"""Batch and layer normalization, each one fused op with a closed-form backward.

``batch_norm``
    inference: normalise with given per-channel statistics (as
    ``keras.ops.batch_normalization``); gradients reach x, the statistics,
    offset and scale.
``batch_norm_train``
    training: normalise with the statistics of the batch (over every axis but
    the channel axis) and return them. The variance is the biased one (divided
    by the number of values per channel, not that number minus one), which is
    what Keras's BatchNormalization uses both to normalise and to update its
    moving variance (``ops.moments`` in keras/src/layers/normalization/
    batch_normalization.py); PyTorch differs: it normalises with the biased
    variance but keeps the unbiased one as its running variance.
``layer_norm``
    normalise each example over ``axis`` (an int or a tuple), as Keras's
    LayerNormalization (default epsilon 1e-3).

Statistics are computed in two passes (mean, then the mean of squared
deviations), which stays accurate when the mean is large next to the spread.
"""

from __future__ import annotations

import numbers

from ..backend.config import epsilon as _default_epsilon
from ..engine.autograd import graph_input
from ..engine.dtypes import is_floating
from ..engine.function import Function
from ._checks import normalize_axes, normalize_axis

__all__ = [
    "batch_norm",
    "batch_norm_train",
    "batch_normalization",
    "layer_norm",
    "layer_normalization",
]


def _channel_shape(ndim, axis, size):
    shape = [1] * ndim
    shape[axis] = size
    return tuple(shape)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sum_of_products(xp, a, b, keep):
    """sum(a * b) over every axis not in ``keep`` (a, b of one shape), without an a * b temporary.

    Returns an array of shape ``tuple(a.shape[i] for i in keep)``.
    """
    if a.ndim > len(_LETTERS) or getattr(xp, "graph", False):  # (a backward recorded for create_graph)
        return (a * b).sum(axis=tuple(i for i in range(a.ndim) if i not in keep))
    spec = _LETTERS[: a.ndim]
    out = "".join(spec[i] for i in keep)
    return xp.einsum(f"{spec},{spec}->{out}", a, b)


def _check_vector(op, name, v, size, x_shape, axis):
    if v.shape != (size,):
        raise ValueError(
            f"{op}: expected {name} of shape ({size},) (the size of axis {axis} of the input of shape "
            f"{tuple(x_shape)}), got shape {tuple(v.shape)}"
        )


class BatchNorm(Function):
    """Inference batch normalization with given statistics.

    y = (x - mean) / sqrt(variance + epsilon) * scale + offset

    Shapes: x (..., C, ...) with C at ``axis``; mean, variance, and the
    optional offset and scale (C,); y like x. The inputs are
    ``(x, mean, variance[, offset][, scale])``, as ``has_offset`` and
    ``has_scale`` say.
    """

    def forward(self, x, mean, variance, *rest, axis, epsilon, has_offset, has_scale):
        offset = rest[0] if has_offset else None
        scale = rest[-1] if has_scale else None
        size = x.shape[axis]
        for name, v in (("mean", mean), ("variance", variance), ("offset", offset), ("scale", scale)):
            if v is not None:
                _check_vector("batch_norm", name, v, size, x.shape, axis)
        cshape = _channel_shape(x.ndim, axis, size)
        inv = 1 / self.xp.sqrt(variance + x.dtype.type(epsilon))
        factor = inv if scale is None else inv * scale
        y = x - mean.reshape(cshape)
        y *= factor.reshape(cshape)
        if offset is not None:
            y += offset.reshape(cshape)
        self.x, self.mean, self.inv, self.scale = x, mean, inv, scale
        self.factor, self.cshape, self.has_offset = factor, cshape, has_offset
        self.epsilon = epsilon
        self.reduce = tuple(i for i in range(x.ndim) if i != axis)
        return y

    def backward(self, g):
        needs = self.needs_input_grad
        cshape, reduce = self.cshape, self.reduce
        grads = [None] * len(needs)
        if needs[0]:
            grads[0] = g * self.factor.reshape(cshape)
        # the per-channel sums below need the centred input only for variance and scale
        want_var = needs[2]
        want_scale = self.scale is not None and needs[-1]
        if needs[1] or (self.has_offset and needs[3]):
            g_sum = g.sum(axis=reduce)
            if needs[1]:
                grads[1] = -g_sum * self.factor
            if self.has_offset and needs[3]:
                grads[3] = g_sum
        if want_var or want_scale:
            # sum(g * (x - mean)) per channel
            gc_sum = (g * (self.x - self.mean.reshape(cshape))).sum(axis=reduce)
            if want_var:
                # d/dvar of (x - mean) * scale * (var + eps)^(-1/2)
                grads[2] = gc_sum * self.factor * (self.inv * self.inv) * -0.5
            if want_scale:
                grads[-1] = gc_sum * self.inv
        return tuple(grads)

    graph_saved = {"x": 0, "mean": 1}

    def graph_derive(self):
        # the variance is not kept (inv is): rebuilt as 1 / inv^2 - epsilon, then inv and factor as tensors
        variance = graph_input(self, 2, 1 / (self.inv * self.inv) - self.inv.dtype.type(self.epsilon))
        self.inv = 1 / self.xp.sqrt(variance + self.epsilon)
        if self.scale is not None:
            self.scale = graph_input(self, len(self._edges) - 1, self.scale)
        self.factor = self.inv if self.scale is None else self.inv * self.scale


class BatchNormTrain(Function):
    """Training batch normalization: normalise with the batch's own statistics.

    mean = x.mean(over all axes but ``axis``), var = ((x - mean) ** 2).mean(same),
    y = (x - mean) / sqrt(var + epsilon) * gamma + beta.

    Shapes: x (..., C, ...) with C at ``axis``; gamma, beta (C,) when given;
    outputs y like x, mean (C,), var (C,) (biased). Inputs are
    ``(x[, gamma][, beta])`` as ``has_gamma``/``has_beta`` say.

    Backward, with N values per channel, xhat = (x - mean) / std,
    std = sqrt(var + epsilon) and upstream gradients gy, gm, gv:
        dx = gamma / std * (gy - mean(gy) - xhat * mean(gy * xhat))
             + gm / N + 2 * gv * std * xhat / N
        dgamma = sum(gy * xhat), dbeta = sum(gy).
    """

    def forward(self, x, *rest, axis, epsilon, has_gamma, has_beta):
        xp = self.xp
        gamma = rest[0] if has_gamma else None
        beta = rest[-1] if has_beta else None
        size = x.shape[axis]
        for name, v in (("gamma", gamma), ("beta", beta)):
            if v is not None:
                _check_vector("batch_norm_train", name, v, size, x.shape, axis)
        reduce = tuple(i for i in range(x.ndim) if i != axis)
        count = x.size // size if size else 0
        if count == 0:
            raise ValueError(
                f"batch_norm_train: needs at least one value per channel to compute batch statistics, "
                f"got input of shape {tuple(x.shape)}"
            )
        cshape = _channel_shape(x.ndim, axis, size)
        mean = x.mean(axis=reduce, keepdims=True)
        xhat = x - mean
        var = (_sum_of_products(xp, xhat, xhat, (axis,)) / x.dtype.type(count)).reshape(cshape)
        std = xp.sqrt(var + x.dtype.type(epsilon))
        inv = 1 / std
        xhat *= inv
        if gamma is not None:
            y = xhat * gamma.reshape(cshape)
            if beta is not None:
                y += beta.reshape(cshape)
        elif beta is not None:
            y = xhat + beta.reshape(cshape)
        else:
            y = xhat  # never written to in place: outputs are not mutated by ops
        self.xhat, self.inv, self.std, self.gamma = xhat, inv.reshape(size), std.reshape(size), gamma
        self.count, self.cshape, self.reduce, self.axis = count, cshape, reduce, axis
        self.has_gamma, self.has_beta = has_gamma, has_beta
        self.mean, self.epsilon = mean, epsilon  # create_graph rebuilds x from xhat * std + mean
        return y, mean.reshape(size), var.reshape(size)

    def backward(self, gy, gm, gv):
        needs = self.needs_input_grad
        cshape, reduce, n = self.cshape, self.reduce, self.count
        xhat = self.xhat
        grads = [None] * len(needs)
        g_sum = gy.sum(axis=reduce)
        gx_sum = _sum_of_products(self.xp, gy, xhat, (self.axis,))
        if needs[0]:
            k = self.inv if self.gamma is None else self.inv * self.gamma
            # dx = k * gy + xhat * b + c, with per-channel b and c
            b = -k * gx_sum / n + 2 * gv * self.std / n
            c = -k * g_sum / n + gm / n
            dx = gy * k.reshape(cshape)
            dx += xhat * b.reshape(cshape)
            dx += c.reshape(cshape)
            grads[0] = dx
        if self.has_gamma and needs[1]:
            grads[1] = gx_sum
        if self.has_beta and needs[-1]:
            grads[-1] = g_sum
        return tuple(grads)

    graph_saved = {"gamma": 1}

    def graph_derive(self):
        # x is not kept (xhat is): rebuilt from xhat * std + mean, then the statistics as tensors of the graph
        x = graph_input(self, 0, self.xhat * self.std.reshape(self.cshape) + self.mean)
        centred = x - x.mean(axis=self.reduce, keepdims=True)
        var = (centred * centred).mean(axis=self.reduce, keepdims=True)
        std = self.xp.sqrt(var + self.epsilon)
        self.xhat = centred / std
        self.std = std.reshape(-1)
        self.inv = 1 / self.std


class LayerNorm(Function):
    """Layer normalization over the axes ``axes`` of each example.

    mean, var = statistics of x over ``axes`` (biased variance),
    y = (x - mean) / sqrt(var + epsilon) * gamma + beta.

    Shapes: x (...); gamma and beta, when given, have the sizes of x along
    ``axes`` (in axis order), e.g. (C,) for the last axis; y like x. Inputs are
    ``(x[, gamma][, beta])`` as ``has_gamma``/``has_beta`` say.

    Backward, with M values per normalised group and dxhat = g * gamma:
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std
        dgamma = sum over the other axes of g * xhat, dbeta = sum of g.
    """

    graph_saved = {}  # graph_derive rebuilds the statistics

    def forward(self, x, *rest, axes, epsilon, has_gamma, has_beta):
        xp = self.xp
        gamma = rest[0] if has_gamma else None
        beta = rest[-1] if has_beta else None
        pshape = tuple(x.shape[a] for a in axes)
        for name, v in (("gamma", gamma), ("beta", beta)):
            if v is not None and tuple(v.shape) != pshape:
                raise ValueError(
                    f"layer_norm: expected {name} of shape {pshape} (the sizes of axes {axes} of the input "
                    f"of shape {tuple(x.shape)}), got shape {tuple(v.shape)}"
                )
        if any(n == 0 for n in pshape):
            raise ValueError(f"layer_norm: cannot normalise over empty axes {axes} of shape {tuple(x.shape)}")
        bshape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
        others = tuple(i for i in range(x.ndim) if i not in axes)
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        group = 1
        for n in pshape:
            group *= n
        var = (_sum_of_products(xp, xhat, xhat, others) / x.dtype.type(group)).reshape(mean.shape)
        inv = 1 / xp.sqrt(var + x.dtype.type(epsilon))
        xhat *= inv
        gamma_b = None if gamma is None else gamma.reshape(bshape)
        if gamma_b is not None:
            y = xhat * gamma_b
            if beta is not None:
                y += beta.reshape(bshape)
        elif beta is not None:
            y = xhat + beta.reshape(bshape)
        else:
            y = xhat  # never written to in place: outputs are not mutated by ops
        self.xhat, self.inv, self.gamma_b, self.axes, self.pshape = xhat, inv, gamma_b, axes, pshape
        self.others, self.group = others, group
        self.mean, self.epsilon = mean, epsilon  # create_graph rebuilds x from xhat / inv + mean
        self.has_gamma, self.has_beta = has_gamma, has_beta
        return y

    def backward(self, g):
        needs = self.needs_input_grad
        xhat, axes = self.xhat, self.axes
        grads = [None] * len(needs)
        if needs[0]:
            dxhat = g if self.gamma_b is None else g * self.gamma_b
            m1 = dxhat.mean(axis=axes, keepdims=True)
            m2 = (_sum_of_products(self.xp, dxhat, xhat, self.others) / xhat.dtype.type(self.group)).reshape(
                self.inv.shape
            )
            if dxhat is g or getattr(self.xp, "graph", False):  # (create_graph: m2's product keeps dxhat)
                dx = dxhat - m1
            else:  # dxhat is our own temporary: reuse it
                dx = dxhat
                dx -= m1
            dx -= xhat * m2
            dx *= self.inv
            grads[0] = dx
        if self.has_gamma and needs[1]:
            grads[1] = _sum_of_products(self.xp, g, xhat, axes).reshape(self.pshape)
        if self.has_beta and needs[-1]:
            grads[-1] = g.sum(axis=self.others).reshape(self.pshape)
        return tuple(grads)

    def graph_derive(self):
        # x is not kept (xhat is): rebuilt from xhat / inv + mean, then the statistics as tensors of the graph
        x = graph_input(self, 0, self.xhat / self.inv + self.mean)
        centred = x - x.mean(axis=self.axes, keepdims=True)
        var = (centred * centred).mean(axis=self.axes, keepdims=True)
        self.inv = 1 / self.xp.sqrt(var + self.epsilon)
        self.xhat = centred * self.inv
        if self.gamma_b is not None:
            gamma = graph_input(self, 1, self.gamma_b.reshape(self.pshape))
            self.gamma_b = gamma.reshape(self.gamma_b.shape)


def _float_input(op, x):
    from ..engine.tensor import Tensor

    if not isinstance(x, Tensor):
        x = Tensor(x)
    if not is_floating(x.dtype):
        raise TypeError(f"{op}: expected a float tensor, got dtype {x.dtype}")
    return x


def _check_epsilon(op, epsilon):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"{op}: epsilon must be a non-negative float, got {epsilon!r}")
    return float(epsilon)


def _int_axis(op, axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(f"{op}: expected an input with at least one dimension, got a scalar")
    return normalize_axis(op, int(axis), ndim)


def batch_norm(x, mean, variance, offset=None, scale=None, epsilon=1e-3, axis=-1):
    """Normalise ``x`` with given statistics (inference-mode batch normalization).

    Args:
        x: a float tensor with channels along ``axis``.
        mean, variance: per-channel statistics, shape (C,).
        offset: optional per-channel shift (beta), shape (C,).
        scale: optional per-channel factor (gamma), shape (C,).
        epsilon: added to the variance before the square root.
        axis: the channel axis.

    Returns:
        ``(x - mean) / sqrt(variance + epsilon) * scale + offset``, shaped like x.
    """
    x = _float_input("batch_norm", x)
    ax = _int_axis("batch_norm", axis, x.ndim)
    eps = _check_epsilon("batch_norm", epsilon)
    inputs = [x, mean, variance] + [v for v in (offset, scale) if v is not None]
    return BatchNorm.apply(*inputs, axis=ax, epsilon=eps, has_offset=offset is not None, has_scale=scale is not None)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``keras.ops.batch_normalization``: :func:`batch_norm` with Keras's argument order."""
    return batch_norm(x, mean, variance, offset=offset, scale=scale, epsilon=epsilon, axis=axis)


def batch_norm_train(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Training-mode batch normalization: normalise with the batch's statistics and return them.

    Args:
        x: a float tensor with channels along ``axis``; statistics are taken
            over every other axis.
        gamma: optional per-channel scale, shape (C,).
        beta: optional per-channel offset, shape (C,).
        axis: the channel axis.
        epsilon: added to the variance before the square root (Keras's 1e-3).

    Returns:
        ``(y, batch_mean, batch_var)``: y shaped like x; mean and the biased
        variance, shape (C,). All three are differentiable (one fused op).
        Updating moving averages is the caller's job.
    """
    x = _float_input("batch_norm_train", x)
    ax = _int_axis("batch_norm_train", axis, x.ndim)
    eps = _check_epsilon("batch_norm_train", epsilon)
    inputs = [x] + [v for v in (gamma, beta) if v is not None]
    return BatchNormTrain.apply(*inputs, axis=ax, epsilon=eps, has_gamma=gamma is not None, has_beta=beta is not None)


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Layer normalization: normalise each example over ``axis`` (an int or a tuple of ints).

    Args:
        x: a float tensor.
        gamma: optional scale with the sizes of x along ``axis`` (e.g. (C,)).
        beta: optional offset, same shape as gamma.
        axis: the axis or axes to normalise over.
        epsilon: added to the variance (Keras LayerNormalization's 1e-3).

    Returns:
        ``(x - mean) / sqrt(var + epsilon) * gamma + beta``, shaped like x.
    """
    x = _float_input("layer_norm", x)
    if x.ndim == 0:
        raise ValueError("layer_norm: expected an input with at least one dimension, got a scalar")
    if isinstance(axis, bool) or axis is None:
        raise TypeError(f"layer_norm: axis must be an int or a tuple of ints, got {axis!r}")
    axes = normalize_axes("layer_norm", axis, x.ndim)
    eps = _check_epsilon("layer_norm", epsilon)
    inputs = [x] + [v for v in (gamma, beta) if v is not None]
    return LayerNorm.apply(*inputs, axes=axes, epsilon=eps, has_gamma=gamma is not None, has_beta=beta is not None)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    """``keras.ops.layer_normalization``: :func:`layer_norm` with epsilon defaulting to ``epsilon()`` (1e-7)."""
    return layer_norm(x, gamma, beta, axis=axis, epsilon=_default_epsilon() if epsilon is None else epsilon)
