"""Plan fusions: rewrite a :class:`~ember.compile.plan.StepPlan` to do the same math with less work.

Softmax + cross-entropy
    A model ending in ``softmax`` trained with categorical or sparse
    categorical cross-entropy (on probabilities, Keras's default) computes
    the loss's gradient with respect to the probabilities, then the softmax's
    Jacobian-vector product. Their composition is ``g * (sum(t) * y - t)``
    (``g * (y - onehot)`` for integer labels), with ``y`` the softmax output
    the forward pass already holds. The fused entry keeps the eager loss value
    (the same forward arithmetic) and sends that gradient straight to the
    softmax's input, so the softmax's backward and the cross-entropy's saved
    intermediates are skipped. The one difference from the eager step: the
    eager gradient is zero where a probability falls outside Keras's clip
    ``[epsilon, 1 - epsilon]``; the fused one is the unclipped ``y - t`` there
    (of size ~epsilon), and it is rounded differently (float32 ulps).

Sigmoid + binary cross-entropy
    A model ending in ``sigmoid`` trained with binary cross-entropy on
    probabilities (``from_logits=False``, Keras's default) chains the loss's
    gradient ``(q - t) / (q (1 - q))`` (``q`` the probabilities clipped to
    Keras's ``[epsilon, 1 - epsilon]``) through the sigmoid's ``y (1 - y)``.
    Inside the clip that is ``y - t`` with respect to the logits; the fused
    entry sends ``g / n * (y - t)`` straight to the sigmoid's input, so the
    sigmoid's backward and the loss's divided gradient are skipped.

    Decisions (tested in tests/test_compile.py):

    - The loss value is the eager one, bit for bit: it is computed from the
      clipped probabilities with the eager arithmetic, not from the logits.
      (A logits form would differ in float32 ulps everywhere and, where the
      sigmoid saturates, by more: the clip caps each term at
      ``-log(epsilon)`` ~ 16.1, the logits form does not.) Keras's floor of
      the logs at -100 is skipped only where it cannot act (the clip bounds'
      logs are above -100 in the array's dtype), which leaves the bits alone.
      With an epsilon so small that ``1 - epsilon`` rounds to 1 (below ~6e-8
      in float32) the entry computes the eager gradient chain unchanged
      (there a probability of exactly 1 passes the clip and only the
      sigmoid's ``y (1 - y) = 0`` zeroes its gradient).
    - Where the clip is active (``y`` outside ``[epsilon, 1 - epsilon]``: a
      saturated sigmoid) the eager gradient, like Keras's, is 0; the fused one
      is 0 there too (the clip passes ``y`` unchanged exactly where it is
      inactive, so ``clip(y) == y`` is the mask). Elsewhere the fused gradient
      is the eager one's math rounded differently (float32 ulps).
    - Label smoothing is supported (``t`` smoothed as in the forward);
      ``from_logits=True`` is not fused (no sigmoid to skip).
"""

from __future__ import annotations

import math

import numpy

from ..backend.config import epsilon
from ..ops.activation import Sigmoid, Softmax
from ..ops.loss import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy


def fuse_plan(plan) -> None:
    """Apply every fusion that matches ``plan``, in place; ``plan.fused`` names what was fused."""
    fused = []
    producer = {}
    readers = {}
    for i, step in enumerate(plan.steps):
        for s in step.out_slots:
            producer[s] = i
        for s in step.in_slots:
            readers[s] = readers.get(s, 0) + 1
    for step in plan.steps:
        if _softmax_crossentropy(plan, step, producer, readers) is not None:
            fused.append(f"softmax+{step.name}")
        elif _sigmoid_binary_crossentropy(plan, step, producer, readers) is not None:
            fused.append(f"sigmoid+{step.name}")
    plan.fused = tuple(fused)
    plan._program = None  # recompiled from the rewritten steps on the next replay


def _softmax_crossentropy(plan, step, producer, readers):
    fn = step.fn
    kind = type(fn)
    if kind is CategoricalCrossentropy:
        if step.attrs.get("from_logits") or step.attrs.get("label_smoothing"):
            return None
    elif kind is SparseCategoricalCrossentropy:
        if step.attrs.get("from_logits") or step.attrs.get("ignore_class") is not None:
            return None
    else:
        return None
    softmax = _activation_before(plan, step, producer, readers, Softmax)
    if softmax is None:
        return None
    # both ops over the last axis only (the shapes are fixed per plan)
    ndim = len(softmax.out_meta[0][0])
    axis = softmax.attrs.get("axis", -1)
    axis = axis if isinstance(axis, int) else (tuple(axis)[0] if len(tuple(axis)) == 1 else None)
    loss_axis = step.attrs.get("axis", -1)
    if axis is None or axis % ndim != ndim - 1 or loss_axis % ndim != ndim - 1:
        return None
    fused = _FusedSoftmaxCrossentropy(fn, kind is SparseCategoricalCrossentropy)
    step.fn = fused
    step.edges = (step.edges[0], softmax.edges[0])
    return fused


def _activation_before(plan, step, producer, readers, activation):
    """The ``activation`` step whose output is the loss ``step``'s y_pred and nothing else's, or None.

    The loss must need the gradient of y_pred only (not of y_true), and the
    activation one input with a gradient.
    """
    fn = step.fn
    if step.edges is None or fn.needs_input_grad[0] or not fn.needs_input_grad[1]:
        return None
    p_slot = step.in_slots[1]
    source = producer.get(p_slot)
    if source is None or readers.get(p_slot) != 1:
        return None  # the probabilities feed something else too: their gradient is needed in full
    act = plan.steps[source]
    if type(act.fn) is not activation or act.edges is None or len(act.edges) != 1:
        return None
    edge = step.edges[1]
    if edge is None or edge[1] != source:
        return None
    return act


def _sigmoid_binary_crossentropy(plan, step, producer, readers):
    if type(step.fn) is not BinaryCrossentropy or step.attrs.get("from_logits"):
        return None
    sigmoid = _activation_before(plan, step, producer, readers, Sigmoid)
    if sigmoid is None:
        return None
    fused = _FusedSigmoidBinaryCrossentropy(step.fn)
    step.fn = fused
    step.edges = (step.edges[0], sigmoid.edges[0])
    return fused


class _FusedSigmoidBinaryCrossentropy:
    """Stands in for a binary cross-entropy step after a sigmoid: the eager loss value, the gradient to the logits.

    Shapes: t, p (..., n, ...) -> loss (...) without ``axis`` (as the op);
    the backward gives (None, gradient of the sigmoid's input), of p's shape.
    """

    def __init__(self, fn):
        self.xp = fn.xp
        self.device = fn.device

    def forward(self, t, p, from_logits=False, label_smoothing=0.0, axis=-1):
        # BinaryCrossentropy.forward's arithmetic (from_logits=False), without the gradients it would save
        xp = self.xp
        if label_smoothing:
            t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
        eps = epsilon()
        q = xp.clip(p, eps, 1 - eps)
        if _clip_inside(eps, p.dtype):
            log_q, log_1mq = xp.log(q), xp.log(1 - q)
            # d loss / d logits = q - t inside the clip, 0 where it acts (exactly where clip(p) != p)
            self.dz = (q - t) * (q == p)
        else:  # an epsilon whose clip bounds round to 0 or 1: the eager gradient chained, as it is
            log_q, log_1mq = xp.maximum(xp.log(q), -100), xp.maximum(xp.log(1 - q), -100)
            dp = (q - t) / xp.maximum(q * (1 - q), 1e-12) * ((p >= eps) & (p <= 1 - eps))
            self.dz = dp * (p * (1 - p))
        value = -(t * log_q + (1 - t) * log_1mq)
        if not p.ndim:
            self.kept, self.scale = None, 1.0
            return value
        axis = axis % p.ndim
        n = p.shape[axis]
        self.kept = p.shape[:axis] + (1,) + p.shape[axis + 1 :]
        self.scale = 1.0 / n if n else math.nan
        if n == 1:  # the mean of one value is that value (sum of one, divided by 1: exact)
            return value.reshape(p.shape[:axis] + p.shape[axis + 1 :])
        return value.mean(axis=axis)

    def backward(self, g):
        if self.kept is not None:
            g = g.reshape(self.kept)
        if self.scale != 1.0:
            g = g * self.scale
        return None, g * self.dz


_CLIP_INSIDE = {}


def _clip_inside(eps, dtype) -> bool:
    """Whether Keras's clip bounds ``[eps, 1 - eps]`` lie strictly inside (0, 1) in ``dtype``, far from 0.

    Then a clipped probability ``q`` has ``q (1 - q) > 0``, so the sigmoid's
    ``y (1 - y)`` cancels the loss's division wherever the clip is inactive,
    and the logs of ``q`` and ``1 - q`` are above Keras's floor of -100
    (``maximum(log(q), -100)`` returns its input: skipping it changes no bit).
    False for float32 with an epsilon below ~6e-8 (``1 - eps`` rounds to 1).
    """
    key = (eps, dtype)
    ok = _CLIP_INSIDE.get(key)
    if ok is None:
        ok = False
        if numpy.dtype(dtype).kind == "f":
            with numpy.errstate(all="ignore"):
                lo = numpy.asarray(eps, dtype=dtype)
                hi = numpy.asarray(1 - eps, dtype=dtype)
                ok = bool(lo > 0 and hi < 1 and numpy.log(lo) > -90 and numpy.log(1 - hi) > -90)
        _CLIP_INSIDE[key] = ok
    return ok


class _FusedSoftmaxCrossentropy:
    """Stands in for a cross-entropy step: its forward as before, its backward to the softmax's input."""

    def __init__(self, fn, sparse):
        self.inner = fn
        self.sparse = sparse
        fn.needs_input_grad = (False, False)  # the loss value only: no saved intermediates
        self.xp = fn.xp

    def forward(self, t, p, **attrs):
        self.t, self.p = t, p
        return self.inner.forward(t, p, **attrs)

    def backward(self, g):
        xp, y, t = self.xp, self.p, self.t
        g = xp.expand_dims(g, -1)
        if self.sparse:
            labels = t.reshape(y.shape[:-1]).astype(xp.int64, copy=False)
            gz = y * g
            rows = xp.arange(labels.size)
            flat = gz.reshape(-1, y.shape[-1])
            flat[rows, labels.reshape(-1)] -= g.reshape(-1)
            return None, gz
        return None, g * (t.sum(axis=-1, keepdims=True) * y - t)
