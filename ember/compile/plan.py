"""``StepPlan``: a traced forward + loss + backward, replayed on raw arrays.

A plan is built from one :class:`~ember.compile.tracer.Tracer` run. Every
tensor the step touched gets a *slot* in one flat list of arrays:

- input slots: the batch arrays (x, y, sample_weight, flattened), bound anew per step;
- variable slots: read from ``variable.data`` at the start of each replay
  (so optimizer updates, ``set_weights`` and callbacks are seen);
- constant slots: arrays that were neither inputs, variables nor produced
  by a recorded function (scalars, fixed masks): kept as traced;
- value slots: the outputs of the recorded functions.

``replay(arrays)`` runs each recorded function's ``forward`` on the slot
arrays (one reused Function object per step entry, no Tensors, no graph
edges), repeats the state updates (BatchNormalization's moving statistics)
and draws fresh dropout masks where the eager step did, then runs the
backward through the engine's own walk: the traced loss's
:class:`~ember.engine.autograd.BackwardWalk` (order, gradient slots, edge
table), built once and run each step on the plan's function objects. The
arithmetic is the same as the eager step's, op for op and sum for sum, so the
numbers are bit-identical.

Shapes: slot arrays have the shapes of the trace; a batch of another shape
needs another plan (the caller keys plans by input shapes and dtypes).
"""

from __future__ import annotations

import numpy

from ..engine.autograd import BackwardWalk
from ..engine.variable import Variable

_INPUT, _VARIABLE, _CONSTANT, _VALUE = range(4)
# A plan whose step values (activations, their gradients' inputs) total this many bytes drops them after each
# step instead of holding them until the next one overwrites them (see StepPlan._plan_drop).
RELEASE_BYTES = 8 << 20
_NDARRAY = numpy.ndarray


class UntraceableError(Exception):
    """The traced step cannot be replayed as a plan; the message says why."""


class Step:
    """One recorded function application: a fresh function object of its class, its attrs, slots and metadata."""

    __slots__ = ("fn", "attrs", "in_slots", "out_slots", "redraw", "out_meta", "name", "in_meta")

    def __init__(self, rec, in_slots, out_slots):
        self.fn = _fresh(rec.fn)
        self.attrs = rec.attrs
        self.in_slots = in_slots
        self.out_slots = out_slots
        self.redraw = rec.redraw  # (attr, redraw(device)) for an argument drawn afresh each step (a dropout mask)
        self.name = rec.fn.op_name()
        self.in_meta = tuple((tuple(t.shape), t.data.dtype) for t in rec.inputs)  # (shape, dtype) as traced
        self.out_meta = tuple((tuple(t.shape), t.data.dtype) for t in rec.outputs)


class TracedPlan:
    """A trace's tensors numbered as slots, and its steps: what StepPlan and ForwardPlan are built on.

    Slots: inputs (the batch, bound per run), variables (read from ``variable.data`` per run), constants
    (arrays that were neither: kept as traced) and values (the outputs of the recorded functions).
    """

    def _number(self, tracer, inputs, what):
        """Number the slots of ``tracer``'s records (``what``: "step" or "call", for messages).

        Returns ``where`` (id(tensor) -> slot) and ``step_of_fn`` (id(recorded function) -> step index).
        """
        if tracer.problems:
            raise UntraceableError("; ".join(dict.fromkeys(tracer.problems)))
        self.slots = []  # the arrays: constants filled now, the rest per replay
        self.kinds = []
        self.input_slots = []
        self.variable_slots = []  # (slot, variable)
        self.constants = []  # (slot, array) as traced, for comparing two traces
        self.steps = []
        self.signature = []
        self.stat_updates = []  # (before step index, update, input slots)
        where, step_of_fn = {}, {}

        def new_slot(kind, array=None):
            self.slots.append(array)
            self.kinds.append(kind)
            return len(self.slots) - 1

        for t in inputs:
            where[id(t)] = slot = new_slot(_INPUT)
            self.input_slots.append(slot)
        stat_at, alias_at = {}, {}
        for update in tracer.state_updates:
            stat_at.setdefault(update.position, []).append(update)
        for alias in tracer.aliases:  # an in-place write: a tensor reads another's slot from there on
            alias_at.setdefault(alias.position, []).append(alias)
        for i, rec in enumerate(tracer.records):
            for alias in alias_at.pop(i, ()):
                if id(alias.source) in where:
                    where[id(alias.tensor)] = where[id(alias.source)]
            for update in stat_at.pop(i, ()):
                self._add_stat_update(update, where, len(self.steps))
            in_slots = []
            for t in rec.inputs:
                slot = where.get(id(t))
                if slot is None:
                    if isinstance(t, Variable):
                        slot = new_slot(_VARIABLE)
                        self.variable_slots.append((slot, t))
                    elif t.grad_fn is not None:
                        raise UntraceableError(f"{rec.fn.op_name()} reads a tensor made outside the traced {what}")
                    elif t.requires_grad and what == "step":
                        raise UntraceableError(
                            f"{rec.fn.op_name()} reads a leaf tensor that requires grad and is no Variable"
                        )
                    else:
                        slot = new_slot(_CONSTANT, t.data)
                        self.constants.append((slot, t.data))
                    where[id(t)] = slot
                in_slots.append(slot)
            out_slots = []
            for t in rec.outputs:
                where[id(t)] = slot = new_slot(_VALUE)
                out_slots.append(slot)
            step = Step(rec, tuple(in_slots), tuple(out_slots))
            step_of_fn[id(rec.fn)] = len(self.steps)
            self.steps.append(step)
            drawn = rec.redraw is not None
            self.signature.append((type(rec.fn), step.in_slots, step.out_slots, _attr_signature(rec.attrs, drawn)))
        for position in sorted(alias_at):
            for alias in alias_at[position]:
                if id(alias.source) in where:
                    where[id(alias.tensor)] = where[id(alias.source)]
        for position in sorted(stat_at):
            for update in stat_at[position]:
                self._add_stat_update(update, where, len(self.steps))
        self.signature.append(tuple((a, _callable_key(u), ins) for a, u, ins in self.stat_updates))
        return where, step_of_fn

    def _add_stat_update(self, update, where, after):
        slots = tuple(where.get(id(t)) for t in update.tensors)
        if None in slots:
            raise UntraceableError("a state update reads values not made by the traced operations")
        self.stat_updates.append((after, update.update, slots))

    def compatible(self, other) -> tuple[bool, str]:
        """Whether ``other`` (a trace of another batch of the same signature) recorded the same operations."""
        if self.signature != other.signature:
            return False, "the operations differ between two batches (Python control flow on the data?)"
        for (_, a), (_, b) in zip(self.constants, other.constants):
            if a.shape != b.shape or a.dtype != b.dtype or not bool((a == b).all()):
                return False, "a constant array differs between two batches (made from the data outside the ops?)"
        for s, t in zip(self.steps, other.steps):
            if s.redraw is None and not _same_attrs(s.attrs, t.attrs):
                return False, f"{s.name}: its array arguments differ between two batches"
        return True, ""


class StepPlan(TracedPlan):
    """The replayable form of one traced training step (forward, loss, backward).

    Args:
        tracer: a finished Tracer (no problems).
        inputs: the batch tensors the step was traced with, flattened (x, y, sample_weight).
        loss: the scalar loss tensor of the traced step.
        outputs: the model's outputs (flattened y_pred tensors).
        weights: the trainable Variables, in the order the optimizer gets their gradients.
    """

    _program = None  # the compiled forward (see _compile_program), built on the first replay
    _straight = None  # the backward walk's straight-line form (see _backward), built on the first replay
    _drop_after_step = ()  # what replay drops once a step is done (see _plan_drop), set on the first replay
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

    # ---- replay ---------------------------------------------------------------------------------------
    def replay(self, arrays, grad_into=None):
        """Run the step on the batch ``arrays`` (flat, as traced); returns (loss array, outputs, grads).

        ``grads`` has one entry per weight: an array owned by the caller, a
        RowSparseGrad, or None where no gradient reached the weight.
        ``grad_into`` (optional, one entry per weight): an array of the weight's
        shape to write that weight's gradient into (then it is the entry in
        ``grads``), or None to return a fresh array as usual.
        """
        program = self._program
        first = program is None
        if first:
            program = self._program = self._compile_program()
        slots = self.slots
        for slot, array in zip(self.input_slots, arrays):
            slots[slot] = array
        for slot, variable in self.variable_slots:
            slots[slot] = variable.data
        for run in program:
            run(slots)
        grads = self._backward(grad_into)
        result = slots[self.loss_slot], [slots[s] for s in self.output_slots], grads
        if first:
            self._drop_after_step = self._plan_drop()
        if self._drop_after_step:
            for i in self._drop_after_step:
                slots[i] = None
            for step in self.steps:
                step.fn._release()  # what its forward saved for the backward (the engine's own release)
        return result

    def _plan_drop(self):
        """The value slots to drop after each step, or ``()`` to keep everything (small plans).

        Without a release, a step's activations (slot values and what each function saved for its backward)
        stay referenced until the next step overwrites them one op at a time, so the next step's activations are
        allocated while the last one's are still held: twice the activation memory at the peak. A plan whose
        values total ``RELEASE_BYTES`` or more drops its value slots and releases its functions' saved state
        (``Function._release``, as eager does after backward; what a plan's function holds before its forward,
        its device and gradient needs, is kept) once the backward has run. Small plans skip the few
        microseconds this costs.
        """
        slots = self.slots
        value_slots = [i for i, kind in enumerate(self.kinds) if kind in (_INPUT, _VALUE)]
        total = sum(getattr(slots[i], "nbytes", 0) for i in value_slots)
        return value_slots if total >= RELEASE_BYTES else ()

    def _compile_program(self):
        """The forward pass as a flat list of prebound calls ``run(slots)`` (statistics updates included).

        Built on the first replay.
        """
        program = []
        stat_updates = self.stat_updates
        next_stat = 0
        for i, step in enumerate(self.steps):
            while next_stat < len(stat_updates) and stat_updates[next_stat][0] == i:
                program.append(self._stat_runner(stat_updates[next_stat]))
                next_stat += 1
            program.append(_forward_runner(step, self))
        while next_stat < len(stat_updates):
            program.append(self._stat_runner(stat_updates[next_stat]))
            next_stat += 1
        return program

    def _stat_runner(self, entry):
        def run(slots):
            self._stat_update(entry)

        return run

    def _stat_update(self, entry):
        from ..engine.grad_mode import no_grad
        from ..engine.tensor import Tensor

        _, update, slots = entry
        with no_grad():
            update(*[Tensor._wrap(self.slots[s]) for s in slots])

    def _backward(self, grad_into=None):
        """The engine's walk on this step's functions from d(loss)/d(loss) = 1: one gradient per weight.

        Run as the walk's straight-line form (``BackwardWalk.straight``: its table unrolled once, on the first
        replay), the same sums and copies as ``run`` then ``gradients``.
        """
        straight = self._straight
        if straight is None:
            straight = self._straight = self.walk.straight(self.walk.entries)
        return straight(self._seed.copy(), grad_into)


def _fresh(fn):
    """A new Function object of ``fn``'s class with its device and gradient needs, for replay."""
    step_fn = type(fn).__new__(type(fn))
    step_fn.device = fn.device
    step_fn.xp = fn.xp
    step_fn.needs_input_grad = fn.needs_input_grad
    return step_fn


def _forward_runner(step, plan):
    """``run(slots)``: one forward entry with its function, attrs and slots bound (no per-step lookups)."""
    forward, ins, outs, attrs, redraw = step.fn.forward, step.in_slots, step.out_slots, step.attrs, step.redraw
    if redraw is not None or len(outs) != 1:
        name, draw = redraw or (None, None)

        def run(slots):
            kwargs = attrs if draw is None else dict(attrs, **{name: draw(plan.device)})
            raw = forward(*[slots[s] for s in ins], **kwargs)
            if len(outs) == 1:
                slots[outs[0]] = _as_array(raw[0] if type(raw) is tuple else raw)
            else:
                for s, o in zip(outs, raw):
                    slots[s] = _as_array(o)

        return run
    out = outs[0]
    if len(ins) == 1 and not attrs:  # (a call without ** is cheaper)
        (a,) = ins

        def run(slots):
            raw = forward(slots[a])
            slots[out] = raw if type(raw) is _NDARRAY else _as_array(raw[0] if type(raw) is tuple else raw)

    elif len(ins) == 1:
        (a,) = ins

        def run(slots):
            raw = forward(slots[a], **attrs)
            slots[out] = raw if type(raw) is _NDARRAY else _as_array(raw[0] if type(raw) is tuple else raw)

    elif len(ins) == 2 and not attrs:
        a, b = ins

        def run(slots):
            raw = forward(slots[a], slots[b])
            slots[out] = raw if type(raw) is _NDARRAY else _as_array(raw[0] if type(raw) is tuple else raw)

    elif len(ins) == 2:
        a, b = ins

        def run(slots):
            raw = forward(slots[a], slots[b], **attrs)
            slots[out] = raw if type(raw) is _NDARRAY else _as_array(raw[0] if type(raw) is tuple else raw)

    else:

        def run(slots):
            raw = forward(*[slots[s] for s in ins], **attrs)
            slots[out] = raw if type(raw) is _NDARRAY else _as_array(raw[0] if type(raw) is tuple else raw)

    return run


def _as_array(o):
    if isinstance(o, (numpy.generic, float, int)):
        return numpy.asarray(o)
    return o


def _attr_signature(attrs, drawn):
    """Attrs with arrays replaced by (shape, dtype): arrays are compared by value separately."""
    out = []
    for k in sorted(attrs):
        v = attrs[k]
        if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, numpy.generic):
            v = ("array", tuple(v.shape), str(v.dtype))
        elif isinstance(v, (list, tuple)) and any(hasattr(e, "shape") for e in v):
            v = ("arrays", len(v))
        out.append((k, _hashable(v)))
    return (tuple(out), drawn)


def _callable_key(update):
    """What identifies a state update across two traces: its function and the object it is bound to."""
    return (getattr(update, "__func__", update), id(getattr(update, "__self__", None)))


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _same_attrs(a, b):
    for k, v in a.items():
        w = b.get(k)
        if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, numpy.generic):
            if v.shape != w.shape or not bool((v == w).all()):
                return False
    return True
