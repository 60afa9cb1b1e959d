"""``hybridize()``: a HybridBlock's call traced once per input signature and replayed as a plan (MXNet's CachedOp).

A hybridized block's call goes through :class:`CachedCall`. For each *key* (whether ``autograd.record()`` is on,
training mode, the inputs' shapes/dtypes/grad needs, the parameters' arrays and grad_req, and every attribute of
every block inside by value or identity) the first call runs the block eagerly inside an
:class:`ember.compile.Tracer` (Ember's public recorder of a thread's op applications); later calls replay the plan
(:class:`CachedGraph`) on raw arrays: each op's own ``forward`` in the traced order, no Tensors, no graph edges, no
layer Python. The numbers are eager's, bit for bit (the same op code on the same arrays in the same order).
A call that read array values on the host while traced (``asnumpy``, ``asscalar``, ``float(x)``, ``if x``: it may
branch on the data, which MXNet's symbols forbid) is traced a second time and replayed only if both traces agree.

- Outside ``autograd.record()`` the replay builds no graph (as MXNet: nothing is recorded there).
- Inside ``record()`` the whole call becomes one op of Ember's graph (:class:`CachedOpFunction`) whose inputs are
  the block's inputs and parameters; its backward is the engine's own walk (``engine.autograd.BackwardWalk``,
  built once from the traced ops and run on each call's Function objects, as ember.compile's StepPlan does), so
  ``loss.backward()`` fills the parameters' ``.grad`` exactly as the eager call's graph.
- Dropout redraws its mask each replay (the op tells the tracer how); BatchNorm's running statistics are a
  declared state update (``ember.engine.variable.state_update``) repeated each replay.

What stays eager (the key's calls run the block as before, logged at INFO): random draws other than dropout's,
ops reading tensors made outside the call (arrays held from an earlier call), two traces that disagree (Python
control flow on the data), parameters not yet initialized (deferred shapes: the first call infers them), and more
than ``MAX_KEYS`` keys per block. What the key cannot see: state a block reads from outside its attributes (a
global, a closure) and containers changed in place; change such state by replacing the attribute.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

import ember
from ember.compile import Tracer
from ember.engine.autograd import BackwardWalk
from ember.engine.function import Function
from ember.engine.grad_mode import is_grad_enabled
from ember.engine.sparse_grad import RowSparseGrad
from ember.engine.tensor import Tensor

from .. import autograd
from ..ndarray import _nd, host_reads

logger = logging.getLogger("ember.mxnet")

MAX_KEYS = 32  # signatures kept per hybridized block; more run eagerly
_local = threading.local()
# calls traced, replayed from a plan, and checked against eager (tests read them to know the plans ran)
stats = {"replays": 0, "traces": 0, "checks": 0}


def inside_trace() -> bool:
    """True while this thread runs a hybridized block's eager call (its children then run eagerly inside it)."""
    return getattr(_local, "depth", 0) > 0


class _Inside:
    def __enter__(self):
        _local.depth = getattr(_local, "depth", 0) + 1

    def __exit__(self, *exc):
        _local.depth -= 1


class UntraceableCallError(Exception):
    """The call cannot be replayed; the message says why."""


# ---- the plan ------------------------------------------------------------------------------------------------------
class _Step:
    __slots__ = ("cls", "base", "attrs", "tensor_attrs", "in_slots", "out_slots", "redraw", "name")


class CachedGraph:
    """One traced call of a block: slots, the ops in order, state updates and (when recorded) the backward walk.

    Args:
        tracer: a finished Tracer.
        inputs: the call's flat input tensors.
        params: the block's parameters ``[(Parameter, its data NDArray at the trace)]``.
        outputs: the call's flat output tensors.
        recorded: whether the trace ran with a graph (inside ``autograd.record()``): then the backward is built.
    """

    def __init__(self, tracer, inputs, params, outputs, recorded):
        if tracer.problems:
            raise UntraceableCallError("; ".join(dict.fromkeys(tracer.problems)))
        self.n_slots = 0
        self.input_slots, self.param_slots, self.constants = [], [], []
        self.steps, self.signature = [], []
        where = {}  # id(tensor) -> slot
        param_of = {id(data): (k, p) for k, (p, data) in enumerate(params)}
        self.params = [p for p, _ in params]
        keep = [inputs, outputs, tracer.records]  # noqa: F841 - the ids in `where` stay unique while it lives

        def new_slot():
            self.n_slots += 1
            return self.n_slots - 1

        for t in inputs:
            if id(t) not in where:  # an array passed twice is one slot
                where[id(t)] = new_slot()
            self.input_slots.append(where[id(t)])

        def slot_of(t, op):
            slot = where.get(id(t))
            if slot is not None:
                return slot
            slot = where[id(t)] = new_slot()
            if id(t) in param_of:
                k, _ = param_of[id(t)]
                self.param_slots.append((slot, k))
            elif t.grad_fn is not None:
                raise UntraceableCallError(f"{op} reads a tensor made outside the block's call")
            elif t.requires_grad:
                raise UntraceableCallError(f"{op} reads an array with a gradient, neither input nor parameter")
            else:
                self.constants.append((slot, t.data))
            return slot

        stat_at = {}
        for update in tracer.state_updates:
            stat_at.setdefault(update.position, []).append(update)
        self.stat_updates = []  # (before step index, update, slots)
        step_of_fn = {}
        for i, rec in enumerate(tracer.records):
            for update in stat_at.pop(i, ()):
                self._add_update(update, where, len(self.steps))
            name = rec.fn.op_name()
            step = _Step()
            step.cls, step.name = type(rec.fn), name
            step.base = {"device": rec.fn.device, "xp": rec.fn.xp, "needs_input_grad": rec.fn.needs_input_grad}
            step.in_slots = tuple(slot_of(t, name) for t in rec.inputs)
            # an attr holding a tensor (take's indices made by a cast op) reads that tensor's slot each replay
            step.attrs, step.tensor_attrs = {}, []
            for k, v in rec.attrs.items():
                if isinstance(v, Tensor):
                    step.tensor_attrs.append((k, slot_of(v, name)))
                else:
                    step.attrs[k] = v
            step.out_slots = tuple(_fresh_slot(where, t, new_slot) for t in rec.outputs)
            step.redraw = rec.redraw
            step_of_fn[id(rec.fn)] = len(self.steps)
            self.steps.append(step)
            self.signature.append(
                (step.cls, step.in_slots, step.out_slots, tuple(step.tensor_attrs), _attr_key(step.attrs, step.redraw))
            )
        for position in sorted(stat_at):
            for update in stat_at[position]:
                self._add_update(update, where, len(self.steps))
        self.signature.append(tuple((a, _callable_key(u), s) for a, u, s in self.stat_updates))
        self.output_slots = []
        for t in outputs:
            if id(t) not in where:
                raise UntraceableCallError("an output of the block was not made by the traced operations")
            self.output_slots.append(where[id(t)])
        self.signature.append(tuple(self.output_slots))
        self.recorded = recorded
        self.n_inputs = len(inputs)
        self.used = [k for _, k in self.param_slots]  # the parameters the ops read (a recorded call's op inputs)
        self._param_data = [data for _, data in params]
        if recorded:
            self._build_backward(inputs, outputs, step_of_fn)
        del keep

    def _add_update(self, update, where, before):
        slots = tuple(where.get(id(t)) for t in update.tensors)
        if None in slots:
            raise UntraceableCallError("a state update reads values not made by the traced operations")
        self.stat_updates.append((before, update.update, slots))

    def _build_backward(self, inputs, outputs, step_of_fn):
        """The engine's backward walk (``autograd.BackwardWalk``) over the traced ops, to replay on each call's.

        Its targets are the call's inputs and used parameters (the recorded op's inputs, in order); it goes
        through the traced ops only (``inside``), so an input made by an op before the call is where it stops.
        """
        fresh = all(t.grad_fn is not None and id(t.grad_fn) in step_of_fn for t in outputs)
        if not fresh or len(set(self.output_slots)) != len(self.output_slots):
            raise UntraceableCallError("an output of a recorded call is not a fresh result of its operations")
        targets = list(inputs) + [self._param_data[k] for k in self.used]
        walk = BackwardWalk(outputs, targets, inside=step_of_fn)
        self.backward_order = [step_of_fn[id(fn)] for fn in walk.order]  # the steps, aligned with walk.order
        walk.entries = walk.rebind([None] * len(walk.order))  # the traced functions are not kept
        walk.order = walk.targets = None
        # an array given twice (an input passed twice, a parameter also passed as input) is one slot of the walk:
        # its gradient goes to its last position only, so the engine adds it to the array once
        last = {slot: k for k, slot in enumerate(walk.target_slots)}
        self.shadowed = tuple(k for k, slot in enumerate(walk.target_slots) if last[slot] != k)
        self.walk = walk
        self.signature.append(tuple(self.backward_order))

    # ---- comparing two traces ----------------------------------------------------------------------------------
    def compatible(self, other) -> bool:
        """Whether ``other`` (a trace of another call with the same key) recorded the same call."""
        if self.signature != other.signature:
            return False
        for (_, a), (_, b) in zip(self.constants, other.constants):
            if not _same_array(a, b):
                return False
        for s, t in zip(self.steps, other.steps):
            if s.redraw is not None:
                continue
            for k, v in s.attrs.items():
                if _is_array(v) and not _same_array(v, t.attrs.get(k)):
                    return False
        return True

    # ---- replay ------------------------------------------------------------------------------------------------
    def _program(self):
        """Per step, what ``run`` needs bound once: (class, base attrs, attrs, tensor attrs, redraw, input slots,
        output slot or slots, slots dead after the step, state updates after the step)."""
        last = {}
        for i, step in enumerate(self.steps):
            for s in step.in_slots + tuple(slot for _, slot in step.tensor_attrs):
                last[s] = i
        for before, _, where in self.stat_updates:
            for s in where:
                last[s] = max(last.get(s, -1), before - 1)
        keep = set(self.output_slots) | set(self.input_slots) | {s for s, _ in self.param_slots}
        keep |= {s for s, _ in self.constants}
        dead = {}
        for s, i in last.items():
            if s not in keep:
                dead.setdefault(i, []).append(s)
        updates_after = {}
        for entry in self.stat_updates:
            updates_after.setdefault(entry[0] - 1, []).append(entry)
        program = []
        for i, step in enumerate(self.steps):
            outs = step.out_slots[0] if len(step.out_slots) == 1 else step.out_slots
            program.append(
                (
                    step.cls,
                    step.base,
                    step.attrs,
                    tuple(step.tensor_attrs),
                    step.redraw,
                    step.in_slots,
                    outs,
                    tuple(dead.get(i, ())),
                    tuple(updates_after.get(i, ())),
                )
            )
        return program, tuple(updates_after.get(-1, ()))

    def run(self, input_arrays, param_arrays, keep=None):
        """The flat output arrays for ``input_arrays``; ``keep`` (a list) receives each step's Function object.

        Values are dropped after their last reader, as the eager call frees them.
        """
        program = self.__dict__.get("_compiled")
        if program is None:
            program = self._compiled = self._program()
        steps, first_updates = program
        slots = [None] * self.n_slots
        for slot, a in zip(self.input_slots, input_arrays):
            slots[slot] = a
        for slot, k in self.param_slots:
            slots[slot] = param_arrays[k]
        for slot, a in self.constants:
            slots[slot] = a
        for entry in first_updates:
            self._state_update(entry, slots)
        ndarray = np.ndarray
        for cls, base, kwargs, tensor_attrs, redraw, ins, outs, dead, updates in steps:
            fn = cls.__new__(cls)
            fn.__dict__.update(base)
            if tensor_attrs or redraw is not None:
                kwargs = dict(kwargs)
                for k, slot in tensor_attrs:
                    kwargs[k] = slots[slot]
                if redraw is not None:
                    kwargs[redraw[0]] = redraw[1](fn.device)
            raw = fn.forward(*[slots[s] for s in ins], **kwargs)
            if type(outs) is int:
                if type(raw) is not ndarray:
                    raw = _as_array(raw[0] if type(raw) is tuple else raw)
                slots[outs] = raw
            else:
                for s, o in zip(outs, raw):
                    slots[s] = _as_array(o)
            if keep is not None:
                keep.append(fn)
            for entry in updates:
                self._state_update(entry, slots)
            for s in dead:
                slots[s] = None
        return [slots[s] for s in self.output_slots]

    @staticmethod
    def _state_update(entry, slots):
        _, update, where = entry
        with ember.no_grad():
            update(*[Tensor._wrap(slots[s]) for s in where])

    def backward(self, fns, grads_out):
        """Gradients of the call's inputs and parameters from its outputs' (the engine's walk on ``fns``, the
        call's Function objects by step): a tuple aligned with the recorded op's inputs, None where none arrived."""
        walk = self.walk
        found = walk.gradients(walk.run(walk.rebind([fns[i] for i in self.backward_order]), grads_out))
        for k in self.shadowed:
            found[k] = None
        return tuple(found)


class CachedOpFunction(Function):
    """A recorded hybridized call as one op of Ember's graph: inputs (block inputs..., parameters...)."""

    name = "hybridized_block"

    def forward(self, *arrays, graph):
        n = graph.n_inputs
        self.graph, self.fns = graph, []
        params = [None] * len(graph.params)
        for k, a in zip(graph.used, arrays[n:]):
            params[k] = a
        outs = graph.run(arrays[:n], params, keep=self.fns)
        return tuple(outs) if len(outs) != 1 else outs[0]

    def backward(self, *grads_out):
        return self.graph.backward(self.fns, grads_out)


# ---- the per-block cache -------------------------------------------------------------------------------------------
class CachedCall:
    """The plans of one hybridized block, by key; ``__call__`` runs a call through them."""

    # tests set this: every traced call (without state updates or random draws, which a second run would repeat)
    # also runs its plan, forward and backward, and compares it with the eager call bit for bit
    check = False

    def __init__(self, block):
        self.block = block
        self.entries = {}  # key -> ("trace", graph) | ("ready", graph) | ("eager", reason)

    def __call__(self, args, kwargs):
        block = self.block
        flat, rebuild, static = _flatten((args, kwargs))
        flat = [x if isinstance(x, Tensor) else _to_nd(x) for x in flat]
        blocks = _blocks(block)
        params = _block_params(blocks)
        if any(p._data is None for p in params):  # deferred shapes: this call infers them, eagerly
            return self._eager(rebuild(flat))
        recording = autograd.is_recording() and is_grad_enabled()
        key = (
            recording,
            autograd.is_training(),
            static,
            tuple((tuple(x.shape), x.dtype.str, x.requires_grad) for x in flat),
            tuple((id(p), id(p._data), p._data.requires_grad, p._data.dtype.str) for p in params),
            _fingerprint(blocks),
        )
        entry = self.entries.get(key)
        if entry is not None and entry[0] == "ready":
            return self._replay(entry[1], flat, params, recording)
        if entry is not None and entry[0] == "eager":
            return self._eager(rebuild(flat))
        if entry is None and len(self.entries) >= MAX_KEYS:
            self.entries[key] = ("eager", f"more than {MAX_KEYS} input signatures")
            return self._eager(rebuild(flat))
        return self._trace(key, entry, flat, rebuild, params, recording)

    def _eager(self, call_args):
        args, kwargs = call_args
        with _Inside():
            return self.block.forward(*args, **kwargs)

    def _trace(self, key, entry, flat, rebuild, params, recording):
        args, kwargs = rebuild(flat)
        floats = {x.dtype for x in flat if x.dtype.kind == "f"} | {p._data.dtype for p in params}
        if recording and len(floats) > 1:  # one op over all of them would promote its inputs to one dtype
            self.entries[key] = ("eager", f"inputs and parameters of several float dtypes {sorted(map(str, floats))}")
            return self._eager((args, kwargs))
        datas = [(p, p._data) for p in params]
        stats["traces"] += 1
        host_reads.count = 0
        try:
            with _Inside(), Tracer() as tracer:
                if recording:
                    out = self.block.forward(*args, **kwargs)
                else:
                    with ember.no_grad():
                        out = self.block.forward(*args, **kwargs)
            reads = host_reads.count
        finally:
            host_reads.count = None
        outs, out_rebuild, out_static = _flatten(out)
        try:
            if not all(isinstance(o, Tensor) for o in outs):
                raise UntraceableCallError("the block returned something other than arrays")
            graph = CachedGraph(tracer, flat, datas, outs, recording)
            graph._param_data = None  # only needed while building
            graph.out_rebuild = out_rebuild
            graph.out_static = out_static
        except UntraceableCallError as err:
            self.entries[key] = ("eager", str(err))
            logger.info("hybridize: %s runs eagerly for this input signature: %s", self.block.name, err)
            return out
        if self.check and not graph.stat_updates and all(step.redraw is None for step in graph.steps):
            _check_against_eager(graph, flat, params, outs)
        if entry is None:
            # a call that never read its arrays' values cannot have branched on them: replay from the next call
            # (MXNet's rule: a hybridized block sees symbols, never values); one that did is traced again first
            self.entries[key] = ("trace", graph) if reads else ("ready", graph)
        elif entry[1].compatible(graph) and entry[1].out_static == out_static:
            self.entries[key] = ("ready", graph)
        else:
            reason = "two calls recorded different operations (Python control flow on the data?)"
            self.entries[key] = ("eager", reason)
            logger.info("hybridize: %s runs eagerly for this input signature: %s", self.block.name, reason)
        return out

    def _replay(self, graph, flat, params, recording):
        stats["replays"] += 1
        datas = [p._data for p in params]
        if recording:
            outs = CachedOpFunction.apply(*flat, *[datas[k] for k in graph.used], graph=graph)
            outs = list(outs) if isinstance(outs, tuple) else [outs]
            outs = [_nd(o) for o in outs]
        else:
            arrays = graph.run([x.data for x in flat], [d.data for d in datas])
            outs = [_nd(Tensor._wrap(a)) for a in arrays]
        return graph.out_rebuild(outs)


# ---- helpers ---------------------------------------------------------------------------------------------------------
def _fresh_slot(where, t, new_slot):
    """The slot of an op's output tensor (a new tensor of the traced call: never seen before)."""
    if id(t) in where:
        raise UntraceableCallError("an operation returned a tensor the call already had")
    where[id(t)] = slot = new_slot()
    return slot


def _check_against_eager(graph, flat, params, outs):
    """Raise AssertionError unless the plan gives the traced call's outputs and (recorded) gradients exactly."""
    stats["checks"] += 1
    fns = []
    arrays = [p._data.data for p in params]
    got = graph.run([x.data for x in flat], arrays, keep=fns)
    for k, (a, t) in enumerate(zip(got, outs)):
        if a.shape != t.shape or a.dtype != t.dtype or not np.array_equal(a, t.data, equal_nan=True):
            raise AssertionError(f"hybridize check: output {k} of the plan differs from the eager call's")
    if not graph.recorded:
        return
    rng = np.random.default_rng(0)
    heads = [rng.normal(size=t.shape).astype(t.dtype) for t in outs]
    wrt = list(flat) + [params[k]._data for k in graph.used]
    live = [i for i, t in enumerate(wrt) if t.requires_grad]
    if not live or len({id(wrt[i]) for i in live}) < len(live) or _made_from_another([wrt[i] for i in live]):
        return  # ember.grad's gradients would not be the call's own (the callers compare such calls end to end)
    want = ember.grad(
        list(outs),
        [wrt[i] for i in live],
        grad_outputs=[Tensor._wrap(h) for h in heads],
        retain_graph=True,
        allow_unused=True,
    )
    mine = graph.backward(fns, heads)
    for i, w in zip(live, want):
        m = mine[i]
        if isinstance(m, RowSparseGrad):
            m = m.dense_array()
        w = None if w is None else (w.dense_array() if isinstance(w, RowSparseGrad) else w.data)
        if (m is None) != (w is None) or (m is not None and not np.array_equal(m, w, equal_nan=True)):
            raise AssertionError(f"hybridize check: the plan's gradient of input {i} differs from the eager one")


def _made_from_another(tensors):
    """Whether one of ``tensors`` was made from another before the call: ember.grad would then add the path outside
    the call to that one's gradient (an array given twice is another such case)."""
    made = [t for t in tensors if t.grad_fn is not None]
    return bool(made) and bool(BackwardWalk(made, tensors).entries)


def _blocks(block):
    """``block`` and its descendants, depth first (an explicit stack: no generator per block)."""
    out, stack = [], [block]
    while stack:
        b = stack.pop()
        out.append(b)
        stack.extend(reversed(b._children.values()))
    return out


def _block_params(blocks):
    """Every parameter of ``blocks``, once each, in a stable order."""
    seen, out = set(), []
    for b in blocks:
        for group in (b._params, b._reg_params):
            for p in group.values():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
    return out


_SKIP = frozenset({"_children", "_reg_params", "_params", "_child_counts", "_init_args", "_cached_call", "_hooks"})
_PLAIN = frozenset({bool, int, float, str, bytes, type(None)})


def _value_key(v):
    kind = type(v)
    if kind in _PLAIN:
        return v
    if (kind is tuple or kind is list) and all(type(e) in _PLAIN for e in v):
        return (kind.__name__, tuple(v))
    return ("id", id(v))


def _fingerprint(blocks):
    """Every block's identity, children, and attributes (by value for plain data, by identity otherwise)."""
    parts = []
    for b in blocks:
        attrs = tuple([(k, _value_key(v)) for k, v in b.__dict__.items() if k not in _SKIP])
        parts.append((id(b), tuple([id(c) for c in b._children.values()]), attrs))
    return tuple(parts)


def _flatten(value):
    """``(tensors, rebuild(tensors) -> value, static)``: the arrays in nested lists/tuples/dicts, and the rest."""
    flat, static = [], []

    def walk(v):
        if isinstance(v, Tensor) or isinstance(v, np.ndarray):
            flat.append(v)
            return ("t",)
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, tuple(walk(e) for e in v))
        if isinstance(v, dict):
            return ("dict", tuple((k, walk(e)) for k, e in v.items()))
        static.append(_value_key(v))
        return ("s", v)

    shape = walk(value)

    def rebuild(tensors):
        it = iter(tensors)

        def build(s):
            if s[0] == "t":
                return next(it)
            if s[0] == "s":
                return s[1]
            if s[0] == "dict":
                return {k: build(e) for k, e in s[1]}
            items = [build(e) for e in s[1]]
            return tuple(items) if s[0] == "tuple" else items

        return build(shape)

    return flat, rebuild, (_shape_key(shape), tuple(static))


def _shape_key(shape):
    if shape[0] == "s":
        return ("s",)
    if shape[0] in ("t",):
        return shape
    if shape[0] == "dict":
        return ("dict", tuple((k, _shape_key(e)) for k, e in shape[1]))
    return (shape[0], tuple(_shape_key(e) for e in shape[1]))


def _to_nd(x):
    from .. import nd

    return nd.array(x)


def _attr_key(attrs, redraw):
    out = []
    for k in sorted(attrs):
        v = attrs[k]
        if _is_array(v):
            v = ("array", tuple(v.shape), str(v.dtype))
        else:
            try:
                hash(v)
            except TypeError:
                v = repr(v)
        out.append((k, v))
    return (tuple(out), redraw is not None)


def _is_array(v):
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, np.generic)


def _same_array(a, b):
    return (
        b is not None
        and a.shape == b.shape
        and a.dtype == b.dtype
        and bool((a == b).all() if a.dtype.kind != "f" else np.array_equal(a, b, equal_nan=True))
    )


def _callable_key(update):
    return (getattr(update, "__func__", update), id(getattr(update, "__self__", None)))


def _as_array(o):
    if isinstance(o, (np.generic, float, int)):
        return np.asarray(o)
    return o
