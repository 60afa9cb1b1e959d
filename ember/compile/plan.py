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
and draws fresh dropout masks where the eager step did, then walks the backward in
the order the eager ``backward()`` used, summing gradients per output and
into one gradient per trainable variable exactly as the engine does (the
backward walk is generated once as straight-line Python, see
``StepPlan._compile_backward``). The arithmetic is the same as the
eager step's, op for op, so the numbers are bit-identical.

Shapes: slot arrays have the shapes of the trace; a batch of another shape
needs another plan (the caller keys plans by input shapes and dtypes).
"""

from __future__ import annotations

import numpy

from ..engine.autograd import _dense, _topological_order, fit_gradient
from ..engine.function import _LEAF
from ..engine.sparse_grad import RowSparseGrad
from ..engine.variable import Variable
from ..ops.arithmetic import Add, Subtract

_INPUT, _VARIABLE, _CONSTANT, _VALUE = range(4)
# A plan whose step values (activations, their gradients' inputs) total this many bytes drops them after each
# step instead of holding them until the next one overwrites them (see StepPlan._plan_drop).
RELEASE_BYTES = 8 << 20
_NDARRAY = numpy.ndarray


class UntraceableError(Exception):
    """The traced step cannot be replayed as a plan; the message says why."""


class Step:
    """One recorded function application: a fresh function object of its class, its attrs, slots and metadata."""

    __slots__ = ("fn", "attrs", "in_slots", "out_slots", "redraw", "edges", "out_meta", "name", "in_meta")

    def __init__(self, rec, in_slots, out_slots):
        self.fn = _fresh(rec.fn)
        self.attrs = rec.attrs
        self.in_slots = in_slots
        self.out_slots = out_slots
        self.redraw = rec.redraw  # (attr, redraw(device)) for an argument drawn afresh each step (a dropout mask)
        self.edges = None  # (kind, target, out_index, shape, dtype) per input; target: step or weight index
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
    _drop_after_step = ()  # what replay drops once a step is done (see _plan_drop), set on the first replay
    metrics_update = None  # the train function's (compiled metrics, lean update or None) for this plan
    n_outputs = None  # how many of ``outputs`` are the model's (the rest: per-output losses for their trackers)
    trackers = ()  # (running mean, batch size) fed by those per-output losses, in order

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
        """The backward order of the eager engine, with edges pointing at steps and weight indices."""
        weight_index = {id(w): i for i, w in enumerate(self.weights)}
        self.backward_order = []
        if loss.grad_fn is None:
            raise UntraceableError("the loss does not depend on any trainable weight")
        self.loss_step = step_of_fn.get(id(loss.grad_fn))
        self.loss_out_index = loss._out_index
        for fn in _topological_order([loss.grad_fn]):  # the order the eager backward() visits them
            index = step_of_fn.get(id(fn))
            if index is None:
                raise UntraceableError(f"{fn.op_name()} is in the loss's graph but was not traced in this step")
            step = self.steps[index]
            edges = []
            for edge in fn._edges:
                if edge is None:
                    edges.append(None)
                    continue
                kind, target, out_index, shape, dtype = edge
                if kind == _LEAF:
                    i = weight_index.get(id(target))
                    edges.append(None if i is None else (_LEAF, i, 0, shape, dtype))
                else:
                    edges.append((kind, step_of_fn[id(target)], out_index, shape, dtype))
            step.edges = tuple(edges)
            step.out_meta = fn._out_meta
            self.backward_order.append(index)
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
        self._compile_backward()
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

    def _compile_backward(self):
        """The backward walk as one generated Python function (``self.backward_source`` holds its text).

        One local per gradient slot (a step output that gets a gradient), one
        block per step in the eager engine's order: call the step's backward
        (the op's own, which has its fast forms), fit each
        input gradient to its edge's shape and dtype (broadcast gradients
        summed down with precomputed axes), and sum it into the consumer's
        slot or the weight's gradient: into the caller's buffer (``grad_into``)
        when there is one, else as :func:`_leaf` does. The arithmetic and its
        order are the eager engine's, so the numbers are the same bit for bit.
        """
        steps = self.steps
        gslot = {}

        def gradient_slot(index, out_index):
            key = (index, out_index)
            if key not in gslot:
                gslot[key] = len(gslot)
            return gslot[key]

        loss_g = gradient_slot(self.loss_step, self.loss_out_index)
        env = {
            "_nd": _NDARRAY,
            "_fit": fit_gradient,
            "_dense": _dense,
            "_leaf": _leaf,
            "_copyto": numpy.copyto,
            "_add": numpy.add,
            "_reduce": numpy.add.reduce,
            "xp": self.device.xp,
        }
        body = []
        leaf_targets = set()
        # steps no gradient can reach are left out
        reached = {(self.loss_step, self.loss_out_index)}
        for index in self.backward_order:
            for edge in steps[index].edges:
                if edge is not None and edge[0] != _LEAF:
                    reached.add((edge[1], edge[2]))
        for n, index in enumerate(self.backward_order):
            step = steps[index]
            if not any((index, k) in reached for k in range(len(step.out_slots))):
                continue
            outs = [gradient_slot(index, k) for k in range(len(step.out_slots))]
            env[f"b{n}"], env[f"f{n}"] = step.fn.backward, step.fn
            body.append(f"    # {step.name} (step {index})")
            if len(outs) == 1:
                (k,) = outs
                env[f"m{n}"] = step.out_meta[0]
                body.append(f"    if g{k} is not None:")
                body.append(f"        r = b{n}(g{k} if type(g{k}) is _nd else _dense(f{n}, g{k}, *m{n}))")
            else:
                for j in range(len(outs)):
                    env[f"m{n}_{j}"] = step.out_meta[j]
                body.append(f"    if {' or '.join(f'g{k} is not None' for k in outs)}:")
                args = ", ".join(f"_dense(f{n}, g{k}, *m{n}_{j})" for j, k in enumerate(outs))
                body.append(f"        r = b{n}({args})")
            body.append(f"        {', '.join(f'g{k}' for k in outs)} = {', '.join('None' for _ in outs)}")
            body.append("        if type(r) is not tuple:")
            body.append("            r = (r,)")
            for position, edge in enumerate(step.edges):
                if edge is None:
                    continue
                kind, target, out_index, shape, dtype = edge
                shape, dtype = tuple(shape), numpy.dtype(dtype)
                env[f"s{n}_{position}"], env[f"d{n}_{position}"] = shape, dtype
                env[f"n{n}"] = step.name
                body.append(f"        e = r[{position}]")
                body.append("        if e is not None:")
                summed = broadcast_sum(step, position, shape)
                if summed is not None:  # a broadcast operand's gradient, summed with axes worked out here
                    out_shape, axes, keepdims = summed
                    env[f"o{n}_{position}"], env[f"a{n}_{position}"] = out_shape, axes
                    body.append(f"            if type(e) is _nd and e.shape == o{n}_{position}:")
                    if keepdims:
                        body.append(f"                e = _reduce(e, a{n}_{position}, None, None, True)")
                        body.append(f"                e = e.reshape(s{n}_{position})")
                    else:
                        body.append(f"                e = _reduce(e, a{n}_{position})")
                body.append(
                    f"            if type(e) is not _nd or e.shape != s{n}_{position} or e.dtype != d{n}_{position}:"
                )
                body.append(f"                e = _fit(e, s{n}_{position}, d{n}_{position}, n{n})")
                if kind == _LEAF:
                    leaf_targets.add(target)
                    t = target
                    fits = f"i{t} is not None and type(e) is _nd and (w{t} is None or w{t} is i{t})"
                    body.append(f"            if {fits}:")
                    body.append(f"                if w{t} is None:")
                    body.append(f"                    _copyto(i{t}, e)")
                    body.append(f"                    w{t} = i{t}")
                    body.append("                else:")
                    body.append(f"                    _add(i{t}, e, out=i{t})")
                    body.append("            else:")
                    body.append(f"                w{t} = _leaf(w{t}, e, i{t}, given, xp)")
                else:
                    k = gradient_slot(target, out_index)
                    body.append(f"            g{k} = e if g{k} is None else g{k} + e")
        n_weights = len(self.weights)
        lines = ["def backward(loss, into):"]
        lines.append("    given = set()")
        if gslot:
            lines.append(f"    {' = '.join(f'g{k}' for k in range(len(gslot)))} = None")
        targets = sorted(leaf_targets)
        if targets:
            lines.append(f"    {' = '.join(f'w{t}' for t in targets)} = None")
            lines.append("    if into is None:")
            lines.append(f"        {' = '.join(f'i{t}' for t in targets)} = None")
            lines.append("    else:")
            for t in targets:
                lines.append(f"        i{t} = into[{t}]")
        lines.append(f"    g{loss_g} = xp.ones(loss.shape, dtype=loss.dtype)")
        lines += body
        grads = ", ".join(f"w{t}" if t in leaf_targets else "None" for t in range(n_weights))
        lines.append(f"    return [{grads}{',' if n_weights == 1 else ''}]")
        self.backward_source = "\n".join(lines) + "\n"
        exec(compile(self.backward_source, "<ember step plan backward>", "exec"), env)  # noqa: S102 - our source
        self._backward_run = env["backward"]

    def _backward(self, grad_into=None):
        return self._backward_run(self.slots[self.loss_slot], grad_into)


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
    if len(ins) == 1:
        (a,) = ins

        def run(slots):
            raw = forward(slots[a], **attrs)
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


def broadcast_sum(step, position, shape):
    """How to sum the gradient ``step``'s backward gives input ``position`` down to ``shape``, or None.

    For add and subtract, whose backward gives each input a gradient of the
    output's shape: ``(output shape, axes, keepdims)`` with
    ``add.reduce(g, axis=axes, keepdims=keepdims)`` (reshaped to ``shape``
    when ``keepdims``) exactly ``autograd.sum_to_shape(g, shape)``: the same
    reduction over the same axes. None where no sum is needed or the form of
    the gradient is not known.
    """
    if type(step.fn) not in (Add, Subtract) or step.out_meta is None or len(step.out_meta) != 1:
        return None
    out = tuple(step.out_meta[0][0])
    shape = tuple(shape)
    lead = len(out) - len(shape)
    if out == shape or lead < 0:
        return None
    if any(n != 1 and n != out[lead + i] for i, n in enumerate(shape)):
        return None
    ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and out[lead + i] != 1)
    return out, tuple(range(lead)) + ones, bool(ones)


def _leaf(old, g, into, given, xp):
    """A weight's gradient after ``g`` arrives (``old``: what it had): into the caller's buffer, or a new array.

    Gradients handed out are never views of op buffers, and never the same array for two weights.
    """
    if into is not None and not isinstance(g, RowSparseGrad) and not isinstance(old, RowSparseGrad):
        # the caller's buffer: the first gradient copied in, later ones summed in place
        if old is None:
            xp.copyto(into, g)
            return into
        xp.add(into, g, out=into)
        return into
    if not isinstance(g, RowSparseGrad) and (g.base is not None or id(g) in given):
        g = g.copy()
    given.add(id(g))
    return g if old is None else old + g


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
