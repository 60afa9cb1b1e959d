"""``ForwardPlan``: a traced inference forward, replayed on arrays as one generated Python function.

A plan is built from one :class:`~ember.compile.tracer.Tracer` run of
``model(x, training=False)`` under ``no_grad``. Every tensor the forward
touched becomes a local variable of the generated function:

- ``x<n>``: the batch arrays (its arguments);
- ``w<n>``: the Variables, read from ``variable.data`` at each call (so
  ``fit``, ``set_weights`` and ``load_weights`` are seen);
- ``c<n>``: constants, kept as traced (scalars, fixed arrays);
- ``v<n>``: the outputs of the recorded functions, deleted right after their
  last reader (as the eager call frees them).

Each recorded function runs its own ``forward`` on those arrays, in the
traced order, on a Function object made for that call (a local of the
generated function: concurrent runs from several threads share no state, and
what a forward saves for a backward goes with the object). An op that offers a
lean form beside it in ``ops/`` (``lean(xp, attrs)``: its forward as one
function of arrays, nothing saved; Matmul, Add, the plain ReLU, Sigmoid) is
called through that instead. Where the first operand of a lean form that
takes ``out=`` (``lean_in_place``: Add, ReLU) is an array the plan itself
allocated (a product, a convolution, an earlier lean op), has the output's
shape and dtype and is read by nobody else, the op writes into it: the same
numbers, without a new array. Ops whose outputs nobody reads are dropped
(forwards are pure).

The outputs are therefore bit-identical to the eager call's. Shapes are those
of the trace; another batch shape needs another plan (the caller keys plans
by input shapes and dtypes). ``plan.source`` shows the generated function.
"""

from __future__ import annotations

from ..ops.convolution import Conv2D
from .plan import TracedPlan, UntraceableError, _as_array, _fresh


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
        self.output_slots = []
        for t in outputs:
            slot = where.get(id(t))
            if slot is None:
                raise UntraceableError("a model output was not made by the traced operations")
            self.output_slots.append(slot)
        self.signature.append(tuple(self.output_slots))
        self._run = None

    @property
    def source(self) -> str:
        """The generated replay function's Python source."""
        self.function()
        return self._source

    def function(self):
        """The generated replay: ``function(*arrays)`` is ``run(arrays)`` (made at first use: a trace kept only
        for comparison never needs it)."""
        if self._run is None:
            self._source, self._run = self._generate(self.steps)
        return self._run

    def run(self, arrays) -> list:
        """The model's flat outputs for the batch ``arrays`` (flat, as traced): new arrays the caller may keep.

        Safe to call from several threads at once: every value and Function object is a local of the run.
        """
        return self.function()(*arrays)

    # ---- code generation ------------------------------------------------------------------------------
    def _generate(self, steps):
        """``(source, function)``: the replay as one Python function, a few lines per op."""
        outputs = set(self.output_slots)
        steps = _live(steps, outputs)
        last_read = {}
        for i, step in enumerate(steps):
            for s in step.in_slots:
                last_read[s] = i
        names = {s: f"x{s}" for s in self.input_slots}
        env = {"_forward": _forward}
        lines = [f"def run({', '.join(names[s] for s in self.input_slots)}):"]
        for slot, variable in self.variable_slots:
            names[slot] = f"w{slot}"
            env[f"variable{slot}"] = variable
            lines.append(f"    w{slot} = variable{slot}.data")
        for slot, array in self.constants:
            names[slot] = f"c{slot}"
            env[names[slot]] = array
        owned = set()  # value slots holding arrays the plan allocated and nothing else refers to
        for i, step in enumerate(steps):
            for slot in step.out_slots:
                names[slot] = f"v{slot}"
            reusable = (
                step.in_slots
                and step.in_slots[0] in owned
                and last_read[step.in_slots[0]] == i
                and step.in_slots[0] not in outputs
                and step.in_slots.count(step.in_slots[0]) == 1
                and step.in_meta[0] == step.out_meta[0]
                and all(dtype == step.out_meta[0][1] for _, dtype in step.in_meta)
            )
            lean = _lean(i, step, [names[s] for s in step.in_slots], names[step.out_slots[0]], reusable, env)
            if lean is not None:
                lines.append(lean)
                owned.add(step.out_slots[0])
            else:
                fn = step.fn
                env[f"k{i}"], env[f"a{i}"] = fn, step.attrs
                outs = ", ".join(names[s] for s in step.out_slots)
                args = "".join(f", {names[s]}" for s in step.in_slots)
                lines.append(f"    [{outs}] = _forward(k{i}, a{i}{args})  # {fn.op_name()}")
                if _owns_output(fn):
                    owned.add(step.out_slots[0])
            dead = [s for s in step.in_slots if last_read[s] == i and s not in outputs and s not in self.input_slots]
            dead += [s for s in step.out_slots if s not in last_read and s not in outputs]  # outputs nobody reads
            dead = [names[s] for s in dict.fromkeys(dead) if not names[s].startswith("c")]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        lines.append(f"    return [{', '.join(names[s] for s in self.output_slots)}]")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<ember forward plan>", "exec"), env)  # noqa: S102 - source generated above
        return source, env["run"]


def _forward(template, attrs, *arrays) -> list:
    """The forward of a fresh copy of the Function ``template`` (one per run: nothing shared between threads) on
    ``arrays``: its outputs, as arrays. A forward returns an array, or a tuple or list of them; NumPy gives 0-d
    results as scalars.
    """
    out = _fresh(template).forward(*arrays, **attrs)
    return [_as_array(o) for o in out] if type(out) in (tuple, list) else [_as_array(out)]


def _lean(i, step, args, out, reusable, env):
    """The line calling the lean form of step ``i``'s op (``reusable``: into ``args[0]``'s buffer), or None.

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
    into = f", out={args[0]}" if reusable and getattr(step.fn, "lean_in_place", False) else ""
    return f"    {out} = f{i}({', '.join(args)}{into})  # {step.fn.op_name()}{into and ', in place'}"


def _owns_output(fn) -> bool:
    """Whether ``fn``'s forward returns an array it allocated (no view of an input, no cached buffer).

    Only such an output may be overwritten in place by the next op. Conv1D/Conv2D
    allocate their output (or take a fresh matmul product) and reshape it.
    """
    return type(fn) in (Conv2D, *Conv2D.__subclasses__()) and type(fn).forward is Conv2D.forward


def _live(steps, outputs):
    """The steps without those whose outputs nobody reads (forwards are pure: their only effect is their outputs)."""
    needed = set(outputs)
    kept = []
    for step in reversed(steps):
        if any(s in needed for s in step.out_slots):
            kept.append(step)
            needed.update(step.in_slots)
    return kept[::-1]
