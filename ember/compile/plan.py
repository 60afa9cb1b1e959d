"""``StepPlan``: a traced forward + loss + backward, replayed on raw arrays.

A plan is built from one :class:`~ember.compile.tracer.Tracer` run of the trainer's forward and loss. Its
forward is the one generated replay of :mod:`ember.compile.forward_plan` (``train = True``): each recorded
function's ``forward`` runs on the plan's own Function object (one per step entry, no Tensors, no graph
edges), BatchNormalization's moving statistics are updated and dropout masks drawn afresh where the eager
step did. The backward is the engine's own walk: the traced loss's
:class:`~ember.engine.autograd.BackwardWalk` (order, gradient slots, edge table), built once and run each step
on the plan's function objects. The arithmetic is the eager step's, op for op and sum for sum, so the numbers
are bit-identical.

Shapes: those of the trace; a batch of another shape needs another plan (the caller keys plans by input
shapes and dtypes).
"""

from __future__ import annotations

import numpy

from ..engine.autograd import BackwardWalk
from .forward_plan import TracedPlan, UntraceableError

__all__ = ["StepPlan", "UntraceableError"]

# A plan whose step values (its batch, activations) total this many bytes releases what its functions saved for
# the backward once the step is done, instead of holding it until the next step overwrites it (see replay).
RELEASE_BYTES = 8 << 20


class StepPlan(TracedPlan):
    """The replayable form of one traced training step (forward, loss, backward).

    Args:
        tracer: a finished Tracer (no problems).
        inputs: the batch tensors the step was traced with, flattened (x, y, sample_weight).
        loss: the scalar loss tensor of the traced step.
        outputs: the model's outputs (flattened y_pred tensors).
        weights: the trainable Variables, in the order the optimizer gets their gradients.
    """

    train = True
    _straight = None  # the backward walk's straight-line form (see _backward), built on the first replay
    n_outputs = None  # how many of ``outputs`` are the model's (the rest: the per-output losses, for their means)

    def __init__(self, tracer, inputs, loss, outputs, weights):
        self.weights = list(weights)
        self.device = loss.device
        keep = [inputs, loss, outputs, tracer.records]  # noqa: F841 - the ids in `where` stay unique while it lives
        where, step_of_fn = self._number(tracer, inputs, "step")
        self.loss_slot = where.get(id(loss))
        self.output_slots = [where.get(id(t)) for t in outputs]
        if self.loss_slot is None or None in self.output_slots:
            raise UntraceableError("the loss or a model output was not made by the traced operations")
        self.signature.append((self.loss_slot, tuple(self.output_slots)))
        self._build_backward(loss, step_of_fn)
        values = sum(t.data.nbytes for t in inputs)
        values += sum(int(numpy.prod(shape)) * dtype.itemsize for step in self.steps for shape, dtype in step.out_meta)
        self.release = values >= RELEASE_BYTES

    def _results(self):
        return [self.loss_slot, *self.output_slots]

    def _build_backward(self, loss, step_of_fn):
        """The engine's backward walk of the traced loss (``autograd.BackwardWalk``), replayed on the steps."""
        if loss.grad_fn is None:
            raise UntraceableError("the loss does not depend on any trainable weight")
        walk = self.walk = BackwardWalk([loss], self.weights)
        self.backward_order = []
        for fn in walk.order:
            index = step_of_fn.get(id(fn))
            if index is None:
                raise UntraceableError(f"{fn.op_name()} is in the loss's graph but was not traced in this step")
            self.backward_order.append(index)
        walk.entries = walk.rebind([self.steps[i].fn for i in self.backward_order])  # the plan's functions
        walk.order = None  # (the traced graph is not kept)
        self._seed = self.device.xp.ones(loss.shape, dtype=loss.dtype)  # copied per step: an array of its own
        self.signature.append(tuple(self.backward_order))

    def replay(self, arrays, grad_into=None):
        """Run the step on the batch ``arrays`` (flat, as traced); returns (loss array, outputs, grads).

        ``grads`` has one entry per weight: an array owned by the caller, a
        RowSparseGrad, or None where no gradient reached the weight.
        ``grad_into`` (optional, one entry per weight): an array of the weight's
        shape to write that weight's gradient into (then it is the entry in
        ``grads``), or None to return a fresh array as usual.

        The step's values are locals of the generated forward, gone when it returns. What the functions saved
        for the backward stays until the next step overwrites it, so the next step's activations are allocated
        while the last one's are held: twice the activation memory at the peak. A plan of ``RELEASE_BYTES`` or
        more releases it (``Function._release``, as eager does after backward) once the backward has run; small
        plans skip the few microseconds this costs.
        """
        loss, *outputs = (self._run or self.function())(*arrays)
        straight = self._straight
        if straight is None:  # the walk's straight-line form (BackwardWalk.straight): its table unrolled once
            straight = self._straight = self.walk.straight(self.walk.entries)
        grads = straight(self._seed.copy(), grad_into)
        if self.release:
            for step in self.steps:
                step.fn._release()
        return loss, outputs, grads
