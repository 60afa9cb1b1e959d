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
"""

from __future__ import annotations

from ..ops.activation import Softmax
from ..ops.loss import CategoricalCrossentropy, SparseCategoricalCrossentropy


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
        fused_fn = _softmax_crossentropy(plan, step, producer, readers)
        if fused_fn is not None:
            fused.append(f"softmax+{step.name}")
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
    if step.edges is None or fn.needs_input_grad[0] or not fn.needs_input_grad[1]:
        return None
    p_slot = step.in_slots[1]
    source = producer.get(p_slot)
    if source is None or readers.get(p_slot) != 1:
        return None  # the probabilities feed something else too: their gradient is needed in full
    softmax = plan.steps[source]
    if type(softmax.fn) is not Softmax or softmax.edges is None or len(softmax.edges) != 1:
        return None
    edge = step.edges[1]
    if edge is None or edge[1] != source:
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
