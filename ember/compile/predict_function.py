"""``CompiledPredictFunction``: a model's inference forward, traced per input signature and replayed on arrays.

``predict`` calls the model on one batch after another with
``training=False`` under ``no_grad``. Each call through ``Layer.__call__``
and ``Function.apply`` costs tens of microseconds of Python per layer (input
conversion, masks, training scopes, Tensor wrapping), which dominates small
batches. This module records the Function applications of that forward once
per input signature (the structure, shapes and dtypes of x) with the
training step's :class:`~ember.compile.tracer.Tracer` and replays them as a
:class:`ForwardPlan`: each recorded function's ``forward`` on raw arrays, in
order, with the weights read from their Variables at each batch.

A signature is replayed once two traces of it agree (same operations, same
constant arrays, same array arguments) and the two traced batches held
different data, so that nothing the forward computed outside the ops from
the data (a mask made with NumPy, Python control flow on values) can be
frozen into the plan unnoticed. Until then, and for good when a trace cannot
be replayed (random draws, writes to Variables, BatchNormalization updating
its statistics, tensors made outside the traced call), the batch runs
eagerly: the traced call *is* the eager call, so its outputs are returned.

The replay runs each op's own ``forward`` on the same arrays in the same
order, so the outputs are bit-identical to eager ``predict``.

Caveat shared with the compiled training step: a plan remembers the layer
calls of its trace. Changing a layer's Python attributes (its activation, a
Lambda's function) after a ``predict`` is not seen by later ones; changes to
the model's layers or weights objects (``Sequential.add``, a rebuild) are
(:meth:`CompiledPredictFunction.check_model` drops the plans), and weight
values always are.
"""

from __future__ import annotations

import warnings

import numpy

from ..backend.device import default_device
from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor
from ..engine.variable import Variable
from ..layers.layer import _as_tensor
from ..layers.symbolic import flatten, pack_like
from .plan import UntraceableError, _as_array, _attr_signature, _fresh, _same_attrs
from .tracer import Tracer

_INPUT, _VARIABLE, _CONSTANT, _VALUE = range(4)
# state every Function instance keeps; anything else a forward stores on it is for backward, unused here
_BASE_ATTRS = ("device", "xp", "needs_input_grad")
_NDARRAY = numpy.ndarray


class ForwardPlan:
    """The replayable form of one traced inference forward.

    Every tensor the forward touched gets a slot in one list of arrays: the
    inputs (bound per batch), the Variables (read from ``variable.data`` per
    batch), constants (kept as traced: scalars, fixed arrays) and values (the
    recorded functions' outputs, dropped right after their last reader).

    Args:
        tracer: a finished :class:`~ember.compile.tracer.Tracer`.
        inputs: the input tensors the forward was traced with, flat (as ``flatten(x)``).
        outputs: the model's output tensors, flat.

    Raises:
        UntraceableError: the forward cannot be replayed (the message says why).
    """

    def __init__(self, tracer, inputs, outputs):
        if tracer.problems:
            raise UntraceableError("; ".join(dict.fromkeys(tracer.problems)))
        if tracer.stat_updates:
            raise UntraceableError("a BatchNormalization layer updates its moving statistics in inference")
        self.slots = []
        self.input_slots = []
        self.variable_slots = []  # (slot, Variable)
        self.constants = []  # (slot, array as traced), for comparing two traces
        self.signature = []
        steps = []  # (fn, attrs, in_slots, out_slots)
        where = {}  # id(tensor) -> slot
        keep = [inputs, outputs, tracer.records]  # noqa: F841 - the ids in `where` stay unique while it lives

        def new_slot(array=None):
            self.slots.append(array)
            return len(self.slots) - 1

        for t in inputs:
            slot = new_slot()
            self.input_slots.append(slot)
            where[id(t)] = slot
        for rec in tracer.records:
            in_slots = []
            for t in rec.inputs:
                slot = where.get(id(t))
                if slot is None:
                    if isinstance(t, Variable):
                        slot = new_slot()
                        self.variable_slots.append((slot, t))
                    else:
                        if t.grad_fn is not None:
                            raise UntraceableError(f"{rec.fn.op_name()} reads a tensor made outside the traced call")
                        slot = new_slot(t.data)
                        self.constants.append((slot, t.data))
                    where[id(t)] = slot
                in_slots.append(slot)
            out_slots = []
            for t in rec.outputs:
                slot = new_slot()
                where[id(t)] = slot
                out_slots.append(slot)
            fn = _fresh(rec.fn)
            steps.append((fn, rec.attrs, tuple(in_slots), tuple(out_slots)))
            self.signature.append((type(fn), tuple(in_slots), tuple(out_slots), _attr_signature(rec.attrs, False)))
        self.output_slots = []
        for t in outputs:
            slot = where.get(id(t))
            if slot is None:
                raise UntraceableError("a model output was not made by the traced operations")
            self.output_slots.append(slot)
        self.signature.append(tuple(self.output_slots))
        self.attrs = [attrs for _, attrs, _, _ in steps]
        self.source, self._run = self._generate(steps, [_saves_state(rec.fn) for rec in tracer.records])
        del keep

    def _generate(self, steps, saves):
        """The replay as one generated Python function: a line per op, locals for slots.

        Each value is deleted right after its last reader (as the eager call frees
        it); a function whose forward saved arrays for a backward gets its state
        reset after it runs. Returns ``(source, function)``; the source is kept
        on the plan for reading (``plan.source``).
        """
        outputs = set(self.output_slots)
        steps, saves = _live(steps, saves, outputs)
        last_read = {}
        for i, (_, _, in_slots, _) in enumerate(steps):
            for s in in_slots:
                last_read[s] = i
        names = {}
        env = {"_as_array": _as_array, "_ndarray": _NDARRAY}
        for slot in self.input_slots:
            names[slot] = f"x{slot}"
        lines = [f"def run({', '.join(names[s] for s in self.input_slots)}):"]
        for slot, variable in self.variable_slots:
            names[slot] = f"w{slot}"
            env[f"variable{slot}"] = variable
            lines.append(f"    w{slot} = variable{slot}.data")
        for slot, array in self.constants:
            names[slot] = f"c{slot}"
            env[names[slot]] = array
        for i, ((fn, attrs, in_slots, out_slots), saved) in enumerate(zip(steps, saves)):
            env[f"f{i}"] = fn.forward
            args = ", ".join(names[s] for s in in_slots)
            if attrs:
                env[f"a{i}"] = attrs
                args += f", **a{i}" if args else f"**a{i}"
            for slot in out_slots:
                names[slot] = f"v{slot}"
            if len(out_slots) == 1:
                out = names[out_slots[0]]
                lines.append(f"    {out} = f{i}({args})  # {fn.op_name()}")
                # NumPy gives 0-d results as scalars; a single-output forward may return a 1-tuple
                lines.append(f"    if type({out}) is not _ndarray:")
                lines.append(f"        {out} = _as_array({out}[0] if type({out}) is tuple else {out})")
            else:
                lines.append(f"    r = f{i}({args})  # {fn.op_name()}")
                lines.append(f"    {', '.join(names[s] for s in out_slots)} = [_as_array(o) for o in r]")
            if saved:  # the arrays this forward kept for a backward that will not come
                env[f"d{i}"] = fn.__dict__
                env[f"b{i}"] = {k: fn.__dict__[k] for k in _BASE_ATTRS}
                lines.append(f"    d{i}.clear()")
                lines.append(f"    d{i}.update(b{i})")
            dead = [s for s in in_slots if last_read[s] == i and s not in outputs and s not in self.input_slots]
            dead += [s for s in out_slots if s not in last_read and s not in outputs]  # outputs nobody reads
            dead = [names[s] for s in dict.fromkeys(dead) if not names[s].startswith("c")]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        lines.append(f"    return [{', '.join(names[s] for s in self.output_slots)}]")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<ember predict plan>", "exec"), env)  # noqa: S102 - our own generated source
        return source, env["run"]

    def run(self, arrays) -> list:
        """The model's flat outputs for the batch ``arrays`` (flat, as traced); arrays the caller may keep."""
        with no_grad():
            return self._run(*arrays)

    def compatible(self, other) -> bool:
        """Whether ``other`` (a trace of another batch of the same signature) recorded the same forward."""
        if self.signature != other.signature:
            return False
        for (_, a), (_, b) in zip(self.constants, other.constants):
            if a.shape != b.shape or a.dtype != b.dtype or not bool((a == b).all()):
                return False
        return all(_same_attrs(a, b) for a, b in zip(self.attrs, other.attrs))


class CompiledPredictFunction:
    """Runs ``model``'s inference forward on one batch, replaying a traced plan when it can.

    ``fn(x)`` takes a batch as predict's data adapter gives it (an array, or a
    list/dict of arrays) and returns the model's outputs as NumPy arrays in
    the model's output structure, exactly what eager
    ``model(x, training=False)`` under ``no_grad`` returns, converted.

    Args:
        model: a built Model.
    """

    def __init__(self, model):
        self.model = model
        self.plans = {}  # signature -> ForwardPlan, (first trace, its input arrays), or why it stays eager
        self.warned = set()
        self.fingerprint = _fingerprint(model)

    def check_model(self) -> None:
        """Drop the plans when the model's layers or weight objects (or the default device) changed."""
        fingerprint = _fingerprint(self.model)
        if fingerprint != self.fingerprint:
            self.plans.clear()
            self.fingerprint = fingerprint

    def __call__(self, x):
        if type(x) is _NDARRAY:
            flat, key = [x], (x.shape, x.dtype.str)
        else:
            flat = flatten(x)
            key = (_structure(x), tuple((a.shape, a.dtype.str) for a in flat))
        plan = self.plans.get(key)
        if type(plan) is ForwardPlan:
            out = plan.run([_as_tensor(a).data for a in flat] if plan.convert else flat)
            return out[0] if plan.structure is None else pack_like(plan.structure, out)
        if type(plan) is str:
            with no_grad():
                return _numpy(self.model(x, training=False))
        return _numpy(self._trace(key, x, flat))

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, x, flat):
        """Run the batch eagerly under a tracer; keep the trace, or the plan once two traces agree."""
        y, plan, tensors = self._traced_call(x, flat)
        if isinstance(plan, str):
            self._stay_eager(key, plan)
            return y
        arrays = [t.data for t in tensors]
        first = self.plans.get(key)
        if first is None:
            self.plans[key] = (plan, arrays)
            return y
        if _same_data(first[1], arrays):
            # the same batch twice proves nothing about what depends on the data: probe with its rows reversed
            probe = [a[::-1].copy() for a in arrays]
            if _same_data(arrays, probe):
                return y
            _, plan, _ = self._traced_call(x, probe)
            if isinstance(plan, str):
                self._stay_eager(key, plan)
                return y
        if first[0].compatible(plan):
            plan.structure = None if plan.structure is None else _placeholders(plan.structure)
            self.plans[key] = plan
        else:
            self._stay_eager(key, "the operations or their constants differ between two batches")
        return y

    def _traced_call(self, x, flat):
        """``(outputs, ForwardPlan or the reason there is none, input tensors)`` of one eager call on ``flat``."""
        tensors = [_as_tensor(a) for a in flat]
        tracer = Tracer()
        with no_grad(), tracer:
            y = self.model(tensors[0] if type(x) is _NDARRAY else pack_like(x, tensors), training=False)
        try:
            plan = ForwardPlan(tracer, tensors, flatten(y))
        except UntraceableError as e:
            return y, str(e), tensors
        plan.structure = None if isinstance(y, Tensor) else y
        plan.convert = any(t.data is not a for t, a in zip(tensors, flat))
        return y, plan, tensors

    def _stay_eager(self, key, reason):
        self.plans[key] = reason
        if reason not in self.warned:
            self.warned.add(reason)
            warnings.warn(f"the compiled predict step: batches run eagerly: {reason}", RuntimeWarning, stacklevel=5)


def _same_data(a, b) -> bool:
    return all(x.shape == y.shape and bool((x == y).all()) for x, y in zip(a, b))


def _live(steps, saves, outputs):
    """The steps without those whose outputs nobody reads (ops are pure: their only effect is their outputs)."""
    needed = set(outputs)
    keep = []
    for step in reversed(steps):
        if any(s in needed for s in step[3]):
            keep.append(True)
            needed.update(step[2])
        else:
            keep.append(False)
    keep.reverse()
    return [s for s, k in zip(steps, keep) if k], [s for s, k in zip(saves, keep) if k]


def _saves_state(fn) -> bool:
    """Whether the traced ``fn``'s forward stored anything on it beyond what ``Function.apply`` sets."""
    return any(k not in _BASE_ATTRS for k in fn.__dict__)


def _numpy(y):
    if isinstance(y, Tensor):
        return y.numpy()
    return pack_like(y, [t.numpy() for t in flatten(y)])


def _placeholders(structure):
    """The output structure with placeholders instead of the traced tensors (pack_like only reads its shape)."""
    return pack_like(structure, [None] * len(flatten(structure)))


def _structure(s):
    """The nesting of ``s`` (keys, lengths), without its arrays."""
    if isinstance(s, dict):
        return ("dict", tuple((k, _structure(v)) for k, v in s.items()))
    if isinstance(s, (list, tuple)):
        return (type(s).__name__, tuple(_structure(v) for v in s))
    return None


def _fingerprint(model) -> tuple:
    """The identities of the model's layers and weights, recursively: what a plan's steps were traced from."""
    layers, weights = [], []
    stack = [model]
    seen = set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        layers.append(id(layer))
        weights.extend(id(v) for v in getattr(layer, "_trainable_variables", ()))
        weights.extend(id(v) for v in getattr(layer, "_non_trainable_variables", ()))
        stack.extend(reversed(getattr(layer, "_layers", ())))
    return tuple(layers), tuple(weights), (default_device().type, default_device().index)
