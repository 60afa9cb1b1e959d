"""The one forward replay: a traced step's tensors numbered as slots, replayed as one generated Python function.

A :class:`TracedPlan` is built from one :class:`~ember.compile.tracer.Tracer` run. Every tensor the traced
code touched becomes a local variable of the generated function ``run(*batch arrays)``:

- ``x<n>``: the batch arrays (its arguments);
- ``w<n>``: the Variables, read from ``variable.data`` at each run (so optimizer updates, ``set_weights``
  and callbacks are seen);
- ``c<n>``: constants, kept as traced (scalars, fixed masks);
- ``v<n>``: the outputs of the recorded functions, deleted right after their last reader (as eager frees them).

Each recorded function runs its own ``forward`` on those arrays, in the traced order, and the run returns
the arrays of the plan's result slots. Two plans are built on it:

- :class:`~ember.compile.plan.StepPlan` (training, ``train = True``): every step runs on the plan's own
  Function object, which keeps what its forward saved for the backward; dropout masks are drawn afresh and
  BatchNormalization's statistics updates repeated where the eager step did them.
- :class:`ForwardPlan` (inference): each step runs on a Function object made for that run (concurrent runs
  from several threads share no state); ops whose outputs nobody reads are dropped (forwards are pure); an op
  that offers a lean form (``lean(xp, attrs)``: its forward as one function of arrays, nothing saved;
  Matmul, Add, the plain ReLU, Sigmoid) is called through that, and writes into its first operand
  (``lean_in_place``: Add, ReLU) where that is an array the plan allocated, of the output's shape and dtype,
  read by nobody else.

Either way the numbers are the eager step's, bit for bit. Shapes are those of the trace; another batch
shape needs another plan (the callers key plans by input shapes and dtypes). ``plan.source`` shows the
generated function.
"""

from __future__ import annotations

import itertools

import numpy

from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor
from ..engine.variable import Variable


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
    """A trace's tensors numbered as slots, its steps, and their replay as one generated function.

    Slots: inputs (the batch, the run's arguments), variables (read from ``variable.data`` per run), constants
    (arrays that were neither: kept as traced) and values (the outputs of the recorded functions).
    Subclasses set ``train`` and ``_results()`` (the slots the run returns).
    """

    train = False
    _run = None  # the generated replay, made at first use (a trace kept only for comparison never needs it)

    def _number(self, tracer, inputs, what):
        """Number the slots of ``tracer``'s records (``what``: "step" or "call", for messages).

        Returns ``where`` (id(tensor) -> slot) and ``step_of_fn`` (id(recorded function) -> step index).
        """
        if tracer.problems:
            raise UntraceableError("; ".join(dict.fromkeys(tracer.problems)))
        self.input_slots = []
        self.variable_slots = []  # (slot, variable)
        self.constants = []  # (slot, array) as traced
        self.steps = []
        self.signature = []
        self.stat_updates = []  # (before step index, update, input slots)
        where, step_of_fn, count = {}, {}, itertools.count()
        for t in inputs:
            where[id(t)] = slot = next(count)
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
                        slot = next(count)
                        self.variable_slots.append((slot, t))
                    elif t.grad_fn is not None:
                        raise UntraceableError(f"{rec.fn.op_name()} reads a tensor made outside the traced {what}")
                    elif t.requires_grad and what == "step":
                        raise UntraceableError(
                            f"{rec.fn.op_name()} reads a leaf tensor that requires grad and is no Variable"
                        )
                    else:
                        slot = next(count)
                        self.constants.append((slot, t.data))
                    where[id(t)] = slot
                in_slots.append(slot)
            out_slots = []
            for t in rec.outputs:
                where[id(t)] = slot = next(count)
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

    # ---- the generated replay -----------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The generated replay function's Python source."""
        self.function()
        return self._source

    def function(self):
        """The generated replay: ``function(*arrays)`` gives the arrays of the result slots, as a list."""
        if self._run is None:
            self._source, self._run = self._generate()
        return self._run

    def _generate(self):
        """``(source, function)``: the replay as one Python function, a line or two per op."""
        train, results = self.train, self._results()
        keep = set(results)
        steps = self.steps if train else _live(self.steps, keep)
        updates = self.stat_updates  # (ForwardPlan refuses traces that have any)
        last_read = {}
        for i, step in enumerate(steps):
            for s in step.in_slots:
                last_read[s] = i
        for at, _, slots in updates:
            for s in slots:
                last_read[s] = max(last_read.get(s, at), at)
        names = {s: f"x{s}" for s in self.input_slots}
        env = {"_ND": numpy.ndarray, "_one": _one, "_many": _many, "_fresh": _fresh, "_stat": _stat_update}
        lines = [f"def run({', '.join(names[s] for s in self.input_slots)}):"]
        for slot, variable in self.variable_slots:
            names[slot] = f"w{slot}"
            env[f"variable{slot}"] = variable
            lines.append(f"    w{slot} = variable{slot}.data")
        for slot, array in self.constants:
            names[slot] = f"c{slot}"
            env[names[slot]] = array
        owned = set()  # value slots holding arrays the plan allocated and nothing else refers to (inference)
        u = 0
        for i, step in enumerate(steps + [None]):
            while u < len(updates) and updates[u][0] == i:  # a statistics update before step i (or at the end)
                env[f"u{u}"] = updates[u][1]
                lines.append(f"    _stat(u{u}{''.join(f', {names[s]}' for s in updates[u][2])})")
                u += 1
            if step is None:
                break
            for slot in step.out_slots:
                names[slot] = f"v{slot}"
            args = [names[s] for s in step.in_slots]
            line = None if train else _lean(i, step, args, names[step.out_slots[0]], owned, last_read, keep, env)
            if line is not None:
                owned.add(step.out_slots[0])
            else:
                line = self._call(i, step, args, [names[s] for s in step.out_slots], env)
                if not train and _owns_output(step.fn):
                    owned.add(step.out_slots[0])
            lines.append(line)
            dead = [s for s in step.in_slots if last_read[s] == i and s not in keep and s not in self.input_slots]
            dead += [s for s in step.out_slots if s not in last_read and s not in keep]  # outputs nobody reads
            dead = [names[s] for s in dict.fromkeys(dead) if not names[s].startswith("c")]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        lines.append(f"    return [{', '.join(names[s] for s in results)}]")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<ember {type(self).__name__}>", "exec"), env)  # noqa: S102 - source generated above
        return source, env["run"]

    def _call(self, i, step, args, outs, env):
        """The line running step ``i``'s own forward: on the plan's Function object (training, its saved state
        kept for the backward) or on a fresh one per run (inference: nothing shared between threads)."""
        fn = step.fn
        env[f"k{i}"], env[f"a{i}"] = (fn.forward, step.attrs) if self.train else (fn, step.attrs)
        call = f"k{i}" if self.train else f"_fresh(k{i}).forward"
        if step.redraw is not None:  # an argument drawn afresh each run (a dropout mask)
            name, draw = step.redraw
            env[f"r{i}"] = lambda draw=draw, device=fn.device: draw(device)
            args = [*args, f"**{{**a{i}, {name!r}: r{i}()}}"]
        elif step.attrs:
            args = [*args, f"**a{i}"]
        call = f"{call}({', '.join(args)})"
        if len(outs) != 1:
            return f"    {', '.join(outs)}, = _many({call})  # {step.name}"
        (o,) = outs  # a forward returns an array, or a tuple or list of them; NumPy gives 0-d results as scalars
        return f"    {o} = {call}; {o} = {o} if type({o}) is _ND else _one({o})  # {step.name}"


class ForwardPlan(TracedPlan):
    """The replayable form of one traced inference forward.

    Args:
        tracer: a finished :class:`~ember.compile.tracer.Tracer`.
        inputs: the input tensors the forward was traced with, flat (as ``flatten(x)``).
        outputs: the model's output tensors, flat.

    Raises:
        UntraceableError: the forward cannot be replayed (the message says why).
    """

    def __init__(self, tracer, inputs, outputs):
        if tracer.state_updates:
            raise UntraceableError("the forward updates layer state (moving statistics) in inference")
        keep = [inputs, outputs, tracer.records]  # noqa: F841 - the ids in `where` stay unique while it lives
        where, _ = self._number(tracer, inputs, "call")
        self.output_slots = [where.get(id(t)) for t in outputs]
        if None in self.output_slots:
            raise UntraceableError("a model output was not made by the traced operations")
        self.signature.append(tuple(self.output_slots))

    def _results(self):
        return self.output_slots

    def run(self, arrays) -> list:
        """The model's flat outputs for the batch ``arrays`` (flat, as traced): new arrays the caller may keep.

        Safe to call from several threads at once: every value and Function object is a local of the run.
        """
        return self.function()(*arrays)


def _fresh(fn):
    """A new Function object of ``fn``'s class with its device and gradient needs, for replay."""
    step_fn = type(fn).__new__(type(fn))
    step_fn.device = fn.device
    step_fn.xp = fn.xp
    step_fn.needs_input_grad = fn.needs_input_grad
    return step_fn


def _as_array(o):
    return numpy.asarray(o) if isinstance(o, (numpy.generic, float, int)) else o


def _one(raw):
    """The one output of a forward that returned a tuple or list, or a scalar."""
    return _as_array(raw[0] if type(raw) in (tuple, list) else raw)


def _many(raw):
    return [_as_array(o) for o in raw]


def _stat_update(update, *arrays):
    """A state update (BatchNormalization's moving statistics) on this run's values, as the eager step did it."""
    with no_grad():
        update(*[Tensor._wrap(a) for a in arrays])


def _lean(i, step, args, out, owned, last_read, keep, env):
    """The line calling the lean form of step ``i``'s op, into ``args[0]``'s buffer where that may be
    overwritten; or None where the op has none.

    An op class offers one as ``lean(xp, attrs)``: a function of arrays computing its forward (nothing saved
    for a backward), or None for those attrs; ``lean_in_place``: it takes ``out=`` its first input.
    """
    lean = getattr(type(step.fn), "lean", None)
    if lean is None or step.out_meta[0][0] == () or len(step.out_slots) != 1:  # 0-d: NumPy gives scalars
        return None
    function = lean(step.fn.xp, step.attrs)
    if function is None:
        return None
    env[f"f{i}"] = function
    first = step.in_slots[0] if step.in_slots else None
    reusable = (
        first in owned
        and last_read[first] == i
        and first not in keep
        and step.in_slots.count(first) == 1
        and step.in_meta[0] == step.out_meta[0]
        and all(dtype == step.out_meta[0][1] for _, dtype in step.in_meta)
    )
    into = f", out={args[0]}" if reusable and getattr(step.fn, "lean_in_place", False) else ""
    return f"    {out} = f{i}({', '.join(args)}{into})  # {step.name}{into and ', in place'}"


def _owns_output(fn) -> bool:
    """Whether ``fn``'s forward returns an array it allocated (no view of an input, no cached buffer), so the next
    op may overwrite it in place: its class says so with ``owns_output = True`` beside that ``forward`` (Conv2D,
    Conv1D); a subclass with a forward of its own does not inherit the claim."""
    owner = next(c for c in type(fn).__mro__ if "forward" in vars(c))
    return vars(owner).get("owns_output", False)


def _live(steps, outputs):
    """The steps without those whose outputs nobody reads (forwards are pure: their only effect is their outputs)."""
    needed = set(outputs)
    kept = []
    for step in reversed(steps):
        if any(s in needed for s in step.out_slots):
            kept.append(step)
            needed.update(step.in_slots)
    return kept[::-1]


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
