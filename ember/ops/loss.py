"""Losses as ops: the per-sample ``keras.losses`` functions of Keras 3, with Keras's numerics.

Each function takes ``(y_true, y_pred, ...)`` and returns what Keras's function
returns: one value per sample, reduced over the last axis (or ``axis``); the
reduction over the batch belongs to the Loss classes. ``y_true`` is cast to
``y_pred``'s dtype, as Keras does, and gets a gradient too when it requires one
(soft targets, distillation).

The numerics follow Keras exactly: probabilities are clipped to
``[epsilon, 1 - epsilon]`` (``ember.backend.epsilon()``, read at call time),
categorical crossentropy first divides ``y_pred`` by its sum, MAPE divides by
``max(|y_true|, epsilon)``, and so on. Where Keras's formula has a kink
(``maximum``, ``clip``, ``abs``) the gradient is the one PyTorch's autograd
gives for Keras's expression on the torch backend: ``maximum`` splits ties in
half, ``clip`` passes the gradient at its bounds, ``abs`` passes 0 at 0.

Losses that Keras reduces with a mean over the last axis first bring
``y_true`` and ``y_pred`` to one rank as Keras's
``squeeze_or_expand_to_same_rank`` does: a trailing axis of size 1 on the
higher-rank one is squeezed (or, when the other is rank 1, that one expanded).

The crossentropies with ``from_logits=True`` are fused with their softmax /
sigmoid in one op (log-sum-exp form), so they stay finite for any logits.
"""

from __future__ import annotations

import math

import numpy

from ..backend.config import epsilon, floatx
from ..engine.autograd import graph_input, sum_to_shape
from ..engine.dtypes import is_floating
from ..engine.function import Function
from ..errors import DataError
from ._checks import broadcast_shapes, normalize_axis

__all__ = [
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "kl_divergence",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "poisson",
    "cosine_similarity",
]

_LOG2 = math.log(2.0)


# ---- helpers on raw arrays --------------------------------------------------------------------------------------


def _aligned_shapes(t_shape, p_shape):
    """Keras's ``squeeze_or_expand_to_same_rank(y_true, y_pred)`` on shapes."""
    if len(t_shape) == len(p_shape) + 1 and t_shape[-1] == 1:
        if len(p_shape) == 1:
            return t_shape, p_shape + (1,)
        return t_shape[:-1], p_shape
    if len(p_shape) == len(t_shape) + 1 and p_shape[-1] == 1:
        if len(t_shape) == 1:
            return t_shape + (1,), p_shape
        return t_shape, p_shape[:-1]
    return t_shape, p_shape


def _grad_to(g, work_shape, shape, op):
    """Sum a broadcast gradient back to the working shape of an input, then give it the input's own shape."""
    g = sum_to_shape(g, work_shape, op)
    return g.reshape(shape) if g.shape != shape else g


def _max_share(xp, a, b):
    """d max(a, b) / da as PyTorch's ``maximum`` takes it: 1 where a > b, 1/2 on ties, 0 elsewhere."""
    return xp.where(a > b, 1.0, xp.where(a == b, 0.5, 0.0)).astype(a.dtype, copy=False)


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


def _softplus(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


# ---- losses that average (or sum) an elementwise term over the last axis -------------------------------------------


class _LastAxisLoss(Function):
    """Base of the losses ``reduce(term(y_true, y_pred), axis=-1)``.

    Subclasses write ``terms(t, p)`` returning the elementwise value and its
    derivatives with respect to t and p (None where no gradient is needed;
    ``self.need_t`` / ``self.need_p`` say which). Shapes: y_true and y_pred
    broadcast (after Keras's rank alignment when ``align``) to (..., n); the
    result has shape (...).
    """

    align = True  # apply squeeze_or_expand_to_same_rank first
    reduce_sum = False  # sum instead of mean over the last axis
    # create_graph: ``terms`` runs again on the inputs as tensors (graph_derive)
    graph_saved = {"t_in": 0, "p_in": 1}

    def terms(self, t, p):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, t, p, **options):
        self.t_in, self.p_in = t, p  # create_graph rebuilds the derivative terms from them
        self.t_shape, self.p_shape = t.shape, p.shape
        if self.align:
            ts, ps = _aligned_shapes(t.shape, p.shape)
            t, p = t.reshape(ts), p.reshape(ps)
        self.t_work, self.p_work = t.shape, p.shape
        shape = broadcast_shapes(self.op_name(), t.shape, p.shape)
        self.need_t, self.need_p = self.needs_input_grad
        self.options = options
        value, self.dt, self.dp = self.terms(t, p, **options)
        if len(shape) == 0:
            self.scale = None
            return value
        self.scale = 1.0 if self.reduce_sum else 1.0 / shape[-1] if shape[-1] else math.nan
        return value.sum(axis=-1) if self.reduce_sum else value.mean(axis=-1)

    def graph_derive(self):
        t, p = self.t_in.reshape(self.t_work), self.p_in.reshape(self.p_work)
        _, self.dt, self.dp = self.terms(t, p, **self.options)

    def backward(self, g):
        if self.scale is not None:
            g = g[..., None] * self.scale
        name = self.op_name()
        gt = _grad_to(g * self.dt, self.t_work, self.t_shape, name) if self.need_t else None
        gp = _grad_to(g * self.dp, self.p_work, self.p_shape, name) if self.need_p else None
        return gt, gp


class MeanSquaredError(_LastAxisLoss):
    """mean((y_true - y_pred)^2, axis=-1)."""

    name = "mean_squared_error"

    def terms(self, t, p):
        d = p - t
        two_d = 2 * d if (self.need_t or self.need_p) else None
        return d * d, (-two_d if self.need_t else None), two_d


class MeanAbsoluteError(_LastAxisLoss):
    """mean(|y_true - y_pred|, axis=-1); the gradient at a tie is 0."""

    name = "mean_absolute_error"

    def terms(self, t, p):
        d = p - t
        s = self.xp.sign(d) if (self.need_t or self.need_p) else None
        return self.xp.abs(d), (-s if self.need_t else None), s


class MeanAbsolutePercentageError(_LastAxisLoss):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|, axis=-1)."""

    name = "mean_absolute_percentage_error"

    def terms(self, t, p):
        xp = self.xp
        eps = epsilon()
        abs_t = xp.abs(t)
        den = xp.maximum(abs_t, eps)
        r = (t - p) / den
        dt = dp = None
        if self.need_t or self.need_p:
            s = 100 * xp.sign(r) / den
            dp = -s if self.need_p else None
            if self.need_t:
                # r = (t - p) / den(t), den = max(|t|, eps)
                dden = xp.sign(t) * _max_share(xp, abs_t, xp.asarray(eps, dtype=t.dtype))
                dt = s * (1 - r * dden)
        return 100 * xp.abs(r), dt, dp


class MeanSquaredLogarithmicError(_LastAxisLoss):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)."""

    name = "mean_squared_logarithmic_error"

    def terms(self, t, p):
        xp = self.xp
        eps = xp.asarray(epsilon(), dtype=p.dtype)
        a = xp.maximum(p, eps) + 1
        b = xp.maximum(t, eps) + 1
        d = xp.log(a) - xp.log(b)
        dt = -2 * d / b * _max_share(xp, t, eps) if self.need_t else None
        dp = 2 * d / a * _max_share(xp, p, eps) if self.need_p else None
        return d * d, dt, dp


class Huber(_LastAxisLoss):
    """mean(0.5 e^2 where |e| <= delta else delta |e| - 0.5 delta^2, axis=-1), e = y_pred - y_true."""

    name = "huber"

    def terms(self, t, p, delta=1.0):
        xp = self.xp
        e = p - t
        a = xp.abs(e)
        quad = a <= delta
        value = xp.where(quad, 0.5 * e * e, delta * a - 0.5 * delta * delta)
        dp = None
        if self.need_t or self.need_p:
            dp = xp.where(quad, e, delta * xp.sign(e))
        return value, (-dp if self.need_t else None), dp


class LogCosh(_LastAxisLoss):
    """mean(log(cosh(y_pred - y_true)), axis=-1), as x + softplus(-2x) - log 2; the derivative is tanh(x)."""

    name = "log_cosh"

    def terms(self, t, p):
        xp = self.xp
        x = p - t
        value = x + _softplus(xp, -2 * x) - _LOG2
        dp = xp.tanh(x) if (self.need_t or self.need_p) else None
        return value, (-dp if self.need_t else None), dp


class Poisson(_LastAxisLoss):
    """mean(y_pred - y_true * log(y_pred + epsilon), axis=-1) (no rank alignment, as Keras)."""

    name = "poisson"
    align = False

    def terms(self, t, p):
        xp = self.xp
        q = p + epsilon()
        log_q = xp.log(q)
        dp = 1 - t / q if self.need_p else None
        return p - t * log_q, (-log_q if self.need_t else None), dp


class KLDivergence(_LastAxisLoss):
    """sum(t * log(t / p), axis=-1) with t, p clipped to [epsilon, 1] (no rank alignment, as Keras)."""

    name = "kl_divergence"
    align = False
    reduce_sum = True

    def terms(self, t, p):
        xp = self.xp
        eps = epsilon()
        tc, pc = xp.clip(t, eps, 1), xp.clip(p, eps, 1)
        log_r = xp.log(tc / pc)
        dt = (log_r + 1) * ((t >= eps) & (t <= 1)) if self.need_t else None
        dp = -tc / pc * ((p >= eps) & (p <= 1)) if self.need_p else None
        return tc * log_r, dt, dp


class Hinge(_LastAxisLoss):
    """mean(max(1 - t * y_pred, 0), axis=-1) (squared when ``squared``).

    Labels that are all 0 or 1 are first mapped to -1 / 1 (t = 2 y_true - 1),
    as Keras does; the test runs on the device, without a host round trip.
    """

    name = "hinge"
    align = False
    squared = False

    def terms(self, t, p):
        xp = self.xp
        binary = ((t == 0) | (t == 1)).all()
        t = xp.where(binary, 2 * t - 1, t)
        margin = 1 - t * p
        h = xp.maximum(margin, 0)
        dt = dp = None
        if self.need_t or self.need_p:
            slope = 2 * h if self.squared else _max_share(xp, margin, xp.zeros((), dtype=margin.dtype))
            dp = -t * slope if self.need_p else None
            dt = -p * slope * xp.where(binary, 2, 1).astype(p.dtype) if self.need_t else None
        return (h * h if self.squared else h), dt, dp


class SquaredHinge(Hinge):
    """mean(max(1 - t * y_pred, 0)^2, axis=-1), labels mapped as in :class:`Hinge`."""

    name = "squared_hinge"
    squared = True


# ---- losses with their own reduction -----------------------------------------------------------------------------


class CategoricalHinge(Function):
    """max(max((1 - t) * p, axis=-1) - sum(t * p, axis=-1) + 1, 0). Shapes: (..., n), (..., n) -> (...).

    The max over the classes gives its gradient to all tied entries in equal
    parts (PyTorch's ``amax``); the outer max splits a tie with 0 in half.
    """

    name = "categorical_hinge"
    graph_saved = {"t": 0, "p": 1}  # the shares are constants: the loss is piecewise linear

    def forward(self, t, p):
        xp = self.xp
        shape = broadcast_shapes(self.name, t.shape, p.shape)
        if len(shape) == 0 or shape[-1] == 0:
            raise ValueError(f"{self.name}: expected a non-empty class axis, got shapes {t.shape} and {p.shape}")
        self.t, self.p = t, p
        pos = (t * p).sum(axis=-1)
        w = (1 - t) * p
        neg = w.max(axis=-1)
        v = neg - pos + 1
        if any(self.needs_input_grad):
            top = (w == neg[..., None]).astype(w.dtype)
            top /= top.sum(axis=-1, keepdims=True)
            self.top_share = top
            self.share = _max_share(xp, v, xp.zeros((), dtype=v.dtype))
        return xp.maximum(v, 0)

    def backward(self, g):
        gs = (g * self.share)[..., None]
        t, p = self.t, self.p
        gt = gs * (-p * self.top_share - p) if self.needs_input_grad[0] else None
        gp = gs * ((1 - t) * self.top_share - t) if self.needs_input_grad[1] else None
        return (
            sum_to_shape(gt, t.shape, self.name) if gt is not None else None,
            sum_to_shape(gp, p.shape, self.name) if gp is not None else None,
        )


class CosineSimilarity(Function):
    """-sum(l2_normalize(t) * l2_normalize(p), axis), with Keras's normalisation x * min(rsqrt(sum x^2), 1/eps).

    Shapes: (..., n, ...), (..., n, ...) -> the broadcast shape without ``axis``.
    With u = x / |x| (unclamped), d(-u . v)/dx = -(v - u (u . v)) / |x|; where
    the norm is clamped (|x| < eps) the normalisation is linear, x / eps.
    """

    name = "cosine_similarity"

    def forward(self, t, p, axis=-1):
        xp = self.xp
        self.t_shape, self.p_shape = t.shape, p.shape
        ts, ps = _aligned_shapes(t.shape, p.shape)
        shape = broadcast_shapes(self.name, ts, ps)
        if len(shape) == 0:
            raise ValueError(f"{self.name}: expected inputs of rank >= 1, got shapes {t.shape} and {p.shape}")
        self.axis = normalize_axis(self.name, axis, len(shape))
        rank = len(shape)
        # bring both to the full rank so that one axis index means the same axis in both
        t = t.reshape((1,) * (rank - len(ts)) + ts)
        p = p.reshape((1,) * (rank - len(ps)) + ps)
        self.t_work, self.p_work = t.shape, p.shape
        self.full_shape = shape
        eps2 = epsilon() ** 2
        sum_t = (t * t).sum(axis=self.axis, keepdims=True)
        sum_p = (p * p).sum(axis=self.axis, keepdims=True)
        self.inv_t = 1 / xp.sqrt(xp.maximum(sum_t, eps2))
        self.inv_p = 1 / xp.sqrt(xp.maximum(sum_p, eps2))
        self.clamped_t, self.clamped_p = sum_t < eps2, sum_p < eps2
        self.tn, self.pn = t * self.inv_t, p * self.inv_p
        return -(self.tn * self.pn).sum(axis=self.axis)

    def backward(self, g):
        g = self.xp.expand_dims(g, self.axis)
        gt = gp = None
        if self.needs_input_grad[0]:
            gt = self._through_norm(-g * self.pn, self.tn, self.inv_t, self.clamped_t, self.t_work, self.t_shape)
        if self.needs_input_grad[1]:
            gp = self._through_norm(-g * self.tn, self.pn, self.inv_p, self.clamped_p, self.p_work, self.p_shape)
        return gt, gp

    def _through_norm(self, v, u, inv, clamped, work_shape, shape):
        """Gradient of x from v = dloss/du, u = x * inv the normalised x: inv * (v - u (u . v)) unless clamped."""
        # sum the broadcast first: the projection must use x's own normalisation axis
        v = sum_to_shape(self.xp.broadcast_to(v, self.full_shape), work_shape, self.name)
        proj = (u * v).sum(axis=self.axis, keepdims=True)
        g = inv * (v - self.xp.where(clamped, 0, u * proj))
        return g.reshape(shape) if g.shape != shape else g

    graph_saved = {}

    def graph_derive(self):
        # t and p are not kept (their normalised forms are): rebuilt as tn / inv_t, pn / inv_p, then normalised
        # again as tensors of the graph
        eps2 = epsilon() ** 2
        for k, name in ((0, "t"), (1, "p")):
            norm, inv = getattr(self, name + "n"), getattr(self, "inv_" + name)
            x = graph_input(self, k, (norm / inv).reshape(getattr(self, name + "_shape")))
            x = x.reshape(getattr(self, name + "_work"))
            inv = 1 / self.xp.sqrt(self.xp.maximum((x * x).sum(axis=self.axis, keepdims=True), eps2))
            setattr(self, "inv_" + name, inv)
            setattr(self, name + "n", x * inv)


# ---- crossentropies ---------------------------------------------------------------------------------------------


class CategoricalCrossentropy(Function):
    """-sum(t * log q, axis), t the (smoothed) targets, q = softmax(y_pred) or the clipped normalised y_pred.

    Shapes: y_true (..., n, ...) and y_pred of the same shape -> (...) without ``axis``.

    ``from_logits=True`` fuses the log-softmax: log q = z - logsumexp(z), and
    d/dz = sum(t) softmax(z) - t (= softmax - t for targets summing to 1).
    Otherwise q = clip(y / sum(y), eps, 1 - eps) as Keras; the gradient goes
    back through the clip (where inside) and the normalisation.
    d/dt = -log q (times 1 - label_smoothing).
    """

    name = "categorical_crossentropy"
    graph_saved = {"t_in": 0, "p_in": 1}

    def forward(self, t, p, from_logits=False, label_smoothing=0.0, axis=-1):
        xp = self.xp
        self.t_in, self.p_in = t, p  # create_graph rebuilds the saved terms from them
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true and y_pred must have the same shape, got {t.shape} and {p.shape}")
        if p.ndim == 0:
            raise ValueError(f"{self.name}: expected inputs of rank >= 1, got shape {p.shape}")
        ax = self.axis = normalize_axis(self.name, axis, p.ndim)
        self.smooth = 1.0 - label_smoothing
        if label_smoothing:
            # Keras counts the classes on the last axis, whatever ``axis`` is
            t = t * self.smooth + label_smoothing / t.shape[-1]
        self.from_logits = from_logits
        need_t, need_p = self.needs_input_grad
        if from_logits:
            z = p - p.max(axis=ax, keepdims=True) if p.size else p
            e = xp.exp(z)
            s = e.sum(axis=ax, keepdims=True)
            log_q = z - xp.log(s)
            if need_p:
                self.e, self.s, self.t = e, s, t
        elif xp is numpy:
            # the form below in fewer NumPy calls, the same bits: reductions as add.reduce, the clip (to bounds
            # inside (0, 1)) as maximum then minimum, computed once, and the mask as clipped == q
            s = numpy.add.reduce(p, ax, None, None, True)
            q = p / s
            eps = epsilon()
            clipped = numpy.minimum(numpy.maximum(q, eps), 1 - eps)
            log_q = numpy.log(clipped)
            if need_p:
                self.s, self.q, self.w = s, q, -t / clipped * (clipped == q)  # w = dloss/dq
            if need_t:
                self.log_q = log_q
            return -numpy.add.reduce(t * log_q, ax)
        else:
            s = p.sum(axis=ax, keepdims=True)
            q = p / s
            eps = epsilon()
            log_q = xp.log(xp.clip(q, eps, 1 - eps))
            if need_p:
                inside = (q >= eps) & (q <= 1 - eps)
                self.s, self.q, self.w = s, q, -t / xp.clip(q, eps, 1 - eps) * inside  # w = dloss/dq
        if need_t:
            self.log_q = log_q
        return -(t * log_q).sum(axis=ax)

    def graph_derive(self):
        xp, t, p, ax = self.xp, self.t_in, self.p_in, self.axis
        if self.smooth != 1.0:
            t = t * self.smooth + (1.0 - self.smooth) / t.shape[-1]
        if self.from_logits:
            z = p - p.data.max(axis=ax, keepdims=True) if p.size else p  # a constant shift: softmax ignores it
            self.e = xp.exp(z)
            self.s = self.e.sum(axis=ax, keepdims=True)
            self.t = t
            self.log_q = z - xp.log(self.s)
            return
        eps = epsilon()
        self.s = p.sum(axis=ax, keepdims=True)
        self.q = p / self.s
        clipped = xp.clip(self.q, eps, 1 - eps)
        inside = (self.q.data >= eps) & (self.q.data <= 1 - eps)  # a constant mask
        self.w = -t / clipped * inside
        self.log_q = xp.log(clipped)

    def backward(self, g):
        xp, ax = self.xp, self.axis
        if xp is numpy and type(g) is numpy.ndarray and not self.from_logits:
            g = g.reshape(g.shape[:ax] + (1,) + g.shape[ax:])  # expand_dims, without its checks
        else:
            g = xp.expand_dims(g, ax)
        gt = gp = None
        if self.needs_input_grad[1]:
            if self.from_logits:
                t = self.t
                gp = g * (t.sum(axis=ax, keepdims=True) * (self.e / self.s) - t)
            elif xp is numpy and type(g) is numpy.ndarray:
                w = self.w
                gp = g * (w - numpy.add.reduce(w * self.q, ax, None, None, True)) / self.s
            else:
                w = self.w
                gp = g * (w - (w * self.q).sum(axis=ax, keepdims=True)) / self.s
        if self.needs_input_grad[0]:
            gt = -g * self.log_q
            if self.smooth != 1.0:
                gt *= self.smooth
        return gt, gp


class SparseCategoricalCrossentropy(Function):
    """-log q[label] with integer labels; q = softmax(y_pred) (fused) or the clipped normalised y_pred.

    Shapes: y_true (...) integer labels (or (..., 1, ...) with a size-1 class
    axis), y_pred (..., n, ...) with the classes on ``axis`` -> (...).
    Labels equal to ``ignore_class`` give 0 loss and no gradient. Gradient from
    logits: softmax(z) - onehot(label); from probabilities it goes back through
    the clip and the normalisation. Labels get no gradient.
    """

    name = "sparse_categorical_crossentropy"
    graph_saved = {"p_in": 1}

    def forward(self, labels, p, from_logits=False, ignore_class=None, axis=-1):
        xp = self.xp
        self.p_in = p  # create_graph rebuilds the softmax from it
        if p.ndim == 0:
            raise ValueError(f"{self.name}: expected y_pred of rank >= 1, got shape {p.shape}")
        ax = self.axis = normalize_axis(self.name, axis, p.ndim)
        if labels.ndim == p.ndim and labels.shape[ax] == 1:
            labels = labels.squeeze(axis=ax)
        expected = p.shape[:ax] + p.shape[ax + 1 :]
        if labels.shape != expected:
            raise ValueError(
                f"{self.name}: y_true must have y_pred's shape without the class axis {ax}: "
                f"expected {expected} (or with a size-1 axis {ax}), got y_true {labels.shape} and y_pred {p.shape}"
            )
        n = p.shape[ax]
        self.valid = None
        if ignore_class is not None:
            self.valid = labels != ignore_class
            labels = xp.where(self.valid, labels, 0)
        if labels.dtype.kind == "f" and labels.size and bool((labels != xp.floor(labels)).any()):
            bad = labels[labels != xp.floor(labels)]
            raise DataError(
                f"{self.name}: expected integer class labels in y_true, got fractional values {bad[:5]} "
                f"(dtype {labels.dtype}); use categorical_crossentropy for soft labels"
            )
        labels = labels.astype(xp.int64, copy=False)
        if labels.size and bool(((labels < 0) | (labels >= n)).any()):
            bad = labels[(labels < 0) | (labels >= n)]
            raise ValueError(f"{self.name}: labels must be in [0, {n}) for y_pred of shape {p.shape}, got {bad[:5]}")
        idx = xp.expand_dims(labels, ax)
        self.from_logits = from_logits
        if from_logits:
            z = p - p.max(axis=ax, keepdims=True) if p.size else p
            e = xp.exp(z)
            s = e.sum(axis=ax, keepdims=True)
            loss = (xp.log(s) - xp.take_along_axis(z, idx, axis=ax)).squeeze(axis=ax)
            if self.needs_input_grad[1]:
                self.e, self.s = e, s
        else:
            s = p.sum(axis=ax, keepdims=True)
            q = p / s
            eps = epsilon()
            q_label = xp.take_along_axis(q, idx, axis=ax)
            q_clipped = xp.clip(q_label, eps, 1 - eps)
            loss = -xp.log(q_clipped).squeeze(axis=ax)
            if self.needs_input_grad[1]:
                # dloss/dq is -1/q at the label (inside the clip) and 0 elsewhere
                self.s, self.q = s, q
                self.w_label = -(((q_label >= eps) & (q_label <= 1 - eps)) / q_clipped)
                self.q_label = q_label
        if self.needs_input_grad[1]:
            shape = [1] * p.ndim
            shape[ax] = n
            self.onehot = xp.arange(n).reshape(shape) == idx
        if self.valid is not None:
            loss = xp.where(self.valid, loss, 0)
        return loss

    def backward(self, g):
        xp, ax = self.xp, self.axis
        if self.valid is not None:
            g = xp.where(self.valid, g, 0)
        g = xp.expand_dims(g, ax)
        if self.from_logits:
            gp = g * (self.e / self.s - self.onehot)
        else:
            # d/dp_j = (w_j - sum_k w_k q_k) / s, with w nonzero only at the label
            gp = (g * self.w_label / self.s) * (self.onehot - self.q_label)
        return None, gp

    def graph_derive(self):
        xp, p, ax = self.xp, self.p_in, self.axis
        if self.from_logits:
            z = p - p.data.max(axis=ax, keepdims=True) if p.size else p
            self.e = xp.exp(z)
            self.s = self.e.sum(axis=ax, keepdims=True)
            return
        eps = epsilon()
        self.s = p.sum(axis=ax, keepdims=True)
        self.q_label = ((p / self.s) * self.onehot).sum(axis=ax, keepdims=True)
        inside = self.w_label != 0  # a constant mask: the label's probability inside the clip
        self.w_label = -(inside / xp.clip(self.q_label, eps, 1 - eps))


class BinaryCrossentropy(Function):
    """mean(-(t log q + (1 - t) log(1 - q)), axis), q = sigmoid(y_pred) (fused) or clip(y_pred, eps, 1 - eps).

    Shapes: y_true and y_pred of one shape (..., n, ...) -> (...) without ``axis``.
    From logits x the elementwise loss is max(x, 0) - x t + log(1 + exp(-|x|)),
    with d/dx = sigmoid(x) - t and d/dt = -x. From probabilities
    d/dq = (q - t) / (q (1 - q)) inside the clip, d/dt = log(1 - q) - log q.
    Label smoothing maps t to t (1 - s) + s / 2.
    """

    name = "binary_crossentropy"
    graph_saved = {"t_in": 0, "p_in": 1}

    def forward(self, t, p, from_logits=False, label_smoothing=0.0, axis=-1):
        xp = self.xp
        self.t_in, self.p_in = t, p  # create_graph rebuilds the derivative terms from them
        self.from_logits = from_logits
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true and y_pred must have the same shape, got {t.shape} and {p.shape}")
        self.axis = normalize_axis(self.name, axis, p.ndim) if p.ndim else None
        self.smooth = 1.0 - label_smoothing
        if label_smoothing:
            t = t * self.smooth + 0.5 * label_smoothing
        need_t, need_p = self.needs_input_grad
        if from_logits:
            value = xp.maximum(p, 0) - p * t + xp.log1p(xp.exp(-xp.abs(p)))
            self.dp = _sigmoid(xp, p) - t if need_p else None
            self.dt = -p if need_t else None
        elif _clip_inside(epsilon(), p.dtype):
            # the fast form: the bounds lo, hi lie inside (0, 1) far from both ends, so log q, log(1 - q) > -90 and
            # q (1 - q) > 1e-12, and the general form's floors below return their input: skipped, the same bits.
            # clip as maximum/minimum (lo > 0: no signed zero to tell apart), and "p inside the clip" as q == p.
            # the bounds and 1 as scalars of p's dtype: the values NumPy makes of the Python numbers, cheaper to pass
            lo, hi, one = _clip_scalars(epsilon(), p.dtype)
            q = xp.minimum(xp.maximum(p, lo), hi)
            one_minus_q = one - q
            log_q, log_1mq = xp.log(q), xp.log(one_minus_q)
            value = -(t * log_q + (one - t) * log_1mq)
            self.dp = (q - t) / (q * one_minus_q) * (q == p) if need_p else None
            self.dt = log_1mq - log_q if need_t else None
        else:
            eps = epsilon()
            q = xp.clip(p, eps, 1 - eps)
            log_q, log_1mq = xp.maximum(xp.log(q), -100), xp.maximum(xp.log(1 - q), -100)
            value = -(t * log_q + (1 - t) * log_1mq)
            self.dp = (q - t) / xp.maximum(q * (1 - q), 1e-12) * ((p >= eps) & (p <= 1 - eps)) if need_p else None
            self.dt = log_1mq - log_q if need_t else None
        if self.axis is None:
            self.scale = 1.0
            return value
        n = p.shape[self.axis]
        self.scale = 1.0 / n if n else math.nan
        self.kept = p.shape[: self.axis] + (1,) + p.shape[self.axis + 1 :]
        if n == 1:  # the mean of one value is that value (a sum of one, divided by 1): the same bits
            return value.reshape(p.shape[: self.axis] + p.shape[self.axis + 1 :])
        return value.mean(axis=self.axis)

    def backward(self, g):
        if self.axis is not None:
            g = g.reshape(self.kept)  # expand_dims, without its argument checks
        if self.scale != 1.0:  # g * 1.0 is g
            g = g * self.scale
        gt = g * self.dt * self.smooth if self.needs_input_grad[0] else None
        gp = g * self.dp if self.needs_input_grad[1] else None
        return gt, gp

    def graph_derive(self):
        xp, t, p = self.xp, self.t_in, self.p_in
        if self.smooth != 1.0:
            t = t * self.smooth + 0.5 * (1.0 - self.smooth)
        if self.from_logits:
            self.dp = _sigmoid(xp, p) - t
            self.dt = -p
            return
        eps = epsilon()
        q = xp.clip(p, eps, 1 - eps)
        inside = (p.data >= eps) & (p.data <= 1 - eps)  # a constant mask
        self.dp = (q - t) / xp.maximum(q * (1 - q), 1e-12) * inside
        self.dt = xp.maximum(xp.log(1 - q), -100) - xp.maximum(xp.log(q), -100)


_CLIP_INSIDE = {}


def _clip_inside(eps, dtype) -> bool:
    """Whether Keras's probability clip ``[eps, 1 - eps]`` lies inside (0, 1) in ``dtype``, far from both ends.

    Then for every clipped ``q``: ``log(q)`` and ``log(1 - q)`` are above -90 (Keras's floor of -100 never
    acts), ``q (1 - q)`` is above 1e-12 (the division's floor never acts), and ``lo > 0`` (clip is
    ``minimum(maximum(p, lo), hi)`` with no signed zero to tell apart). True for float32 and float64 with
    Keras's epsilon 1e-7; False for float16 (``1 - eps`` rounds to 1) or an epsilon below ~6e-8 in float32.
    """
    key = (eps, dtype)
    ok = _CLIP_INSIDE.get(key)
    if ok is None:
        ok = False
        if numpy.dtype(dtype).kind == "f":
            with numpy.errstate(all="ignore"):
                lo, hi = numpy.asarray(eps, dtype=dtype), numpy.asarray(1 - eps, dtype=dtype)
                ok = bool(0 < lo < 0.5 < hi < 1 and numpy.log(lo) > -90 and numpy.log(1 - hi) > -90)
                half = numpy.asarray(0.5, dtype=dtype)
                ok = ok and bool(lo * half > 1e-11 and (1 - hi) * half > 1e-11)
        _CLIP_INSIDE[key] = ok
    return ok


class SumOverSize(Function):
    """sum(x) / x.size: Keras's ``sum_over_batch_size`` reduction of a loss's per-sample values, as one op.

    Shapes: x (...) with at least one element -> (). The numbers are those of ``sum`` then ``divide_no_nan`` by the
    element count (a nonzero scalar of x's dtype) one after another, bit for bit: the same reduction over all axes,
    the same division; the gradient ``g / size`` in every cell. One op instead of two: a tiny model's step felt
    each op's own cost twice (forward and backward).
    """

    name = "sum_over_size"
    graph_saved = {}  # the count is a constant

    def forward(self, x):
        dtype = x.dtype
        if not x.size or dtype.kind != "f":
            raise ValueError(f"{self.name}: expected a non-empty floating array, got shape {x.shape} of {dtype}")
        self.shape = x.shape
        self.count = count = dtype.type(float(x.size))  # (the divisor divide_no_nan got: the count in x's dtype)
        axes = tuple(range(x.ndim))  # (sum's reduction: all axes named)
        total = _add_reduce(x, axes) if type(x) is numpy.ndarray else x.sum(axis=axes)
        return self.xp.asarray(total / count)  # (NumPy gives a 0-d quotient as a scalar)

    def backward(self, g):
        share = g / self.count
        if type(g) is numpy.ndarray:  # a new array (as sum's backward for small sums), not a broadcast view
            out = numpy.empty(self.shape, dtype=share.dtype)
            out[...] = share
            return out
        return self.xp.broadcast_to(share, self.shape)


_add_reduce = numpy.add.reduce


def sum_over_size(x):
    """``sum(x) / x.size`` for a non-empty floating tensor (see :class:`SumOverSize`)."""
    return SumOverSize.apply(x)


_CLIP_SCALARS = {}


def _clip_scalars(eps, dtype):
    """``(eps, 1 - eps, 1)`` as scalars of ``dtype`` (what NumPy makes of the Python numbers in an op with an
    array of ``dtype``, made once)."""
    key = (eps, dtype)
    scalars = _CLIP_SCALARS.get(key)
    if scalars is None:
        kind = numpy.dtype(dtype).type
        scalars = _CLIP_SCALARS[key] = (kind(eps), kind(1 - eps), kind(1))
    return scalars


# ---- public functions -----------------------------------------------------------------------------------------------


def _pair(y_true, y_pred):
    """Tensors for (y_true, y_pred), y_true cast to y_pred's float dtype as Keras does."""
    from ..engine.tensor import Tensor, tensor

    if not isinstance(y_pred, Tensor):
        device = y_true.device if isinstance(y_true, Tensor) else None
        y_pred = tensor(y_pred, device=device)
    if not is_floating(y_pred.dtype):
        y_pred = y_pred.astype(floatx())
    if not isinstance(y_true, Tensor):
        y_true = tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    elif y_true.dtype != y_pred.dtype:
        y_true = y_true.astype(y_pred.dtype)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """Mean of the squared differences over the last axis: ``mean((y_true - y_pred)**2, axis=-1)``."""
    return MeanSquaredError.apply(*_pair(y_true, y_pred))


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    return MeanAbsoluteError.apply(*_pair(y_true, y_pred))


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    return MeanAbsolutePercentageError.apply(*_pair(y_true, y_pred))


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)``."""
    return MeanSquaredLogarithmicError.apply(*_pair(y_true, y_pred))


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for |error| <= delta, linear beyond; averaged over the last axis."""
    if delta < 0:
        raise ValueError(f"huber: delta must be >= 0, got {delta}")
    return Huber.apply(*_pair(y_true, y_pred), delta=float(delta))


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    return LogCosh.apply(*_pair(y_true, y_pred))


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(t * log(t / p), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    return KLDivergence.apply(*_pair(y_true, y_pred))


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels are mapped to -1/1 first."""
    return Hinge.apply(*_pair(y_true, y_pred))


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``; 0/1 labels are mapped to -1/1 first."""
    return SquaredHinge.apply(*_pair(y_true, y_pred))


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred, axis=-1) - sum(y_true * y_pred, axis=-1) + 1, 0)``."""
    return CategoricalHinge.apply(*_pair(y_true, y_pred))


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    return Poisson.apply(*_pair(y_true, y_pred))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis``: -1 for parallel vectors, 1 for opposite ones."""
    return CosineSimilarity.apply(*_pair(y_true, y_pred), axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) targets and predicted probabilities, per sample.

    Args:
        y_true: targets, the same shape as ``y_pred``.
        y_pred: probabilities (normalised by their sum, then clipped to
            ``[epsilon, 1 - epsilon]``), or logits when ``from_logits``.
        from_logits: treat ``y_pred`` as logits (softmax fused in, stable).
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + s / num_classes``.
        axis: the class axis.

    Returns:
        The loss with ``axis`` reduced away.
    """
    if isinstance(axis, bool):
        raise ValueError(f"categorical_crossentropy: axis must be an int, got {axis!r}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"categorical_crossentropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    return CategoricalCrossentropy.apply(
        *_pair(y_true, y_pred), from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis
    )


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels and predicted probabilities (or logits), per sample.

    Args:
        y_true: integer class indices, shaped like ``y_pred`` without ``axis``
            (a size-1 ``axis`` is accepted and squeezed).
        y_pred: probabilities (normalised and clipped as in categorical
            crossentropy) or logits when ``from_logits``.
        from_logits: treat ``y_pred`` as logits (softmax fused in, stable).
        ignore_class: a label value whose entries get loss 0 and no gradient.
        axis: the class axis of ``y_pred``.

    Returns:
        The loss, shaped like the labels.
    """
    from ..engine.tensor import Tensor, tensor

    if not isinstance(y_pred, Tensor):
        y_pred = tensor(y_pred, device=y_true.device if isinstance(y_true, Tensor) else None)
    if not is_floating(y_pred.dtype):
        y_pred = y_pred.astype(floatx())
    if not isinstance(y_true, Tensor):
        y_true = tensor(y_true, device=y_pred.device)
    return SparseCategoricalCrossentropy.apply(
        y_true, y_pred, from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis
    )


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy averaged over ``axis``, per sample.

    Args:
        y_true: targets in [0, 1], the same shape as ``y_pred``.
        y_pred: probabilities (clipped to ``[epsilon, 1 - epsilon]``), or logits
            when ``from_logits`` (sigmoid fused in, stable).
        from_logits: treat ``y_pred`` as logits.
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + s / 2``.
        axis: the axis averaged over.
    """
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"binary_crossentropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    return BinaryCrossentropy.apply(
        *_pair(y_true, y_pred), from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis
    )
