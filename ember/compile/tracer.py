"""``Tracer``: record the Function applications of one eager step, in the tracing thread only.

While a tracer is active (``with tracer:``), the engine reports to it through
its recorder API (:func:`ember.engine.function.recording`, a ``contextvars``
value of the calling thread; no class is patched, no frame inspected):

- ``on_apply``: every ``Function.apply``, with its input tensors, attrs and outputs;
- ``on_draw``: a random generator is used (``Generator.for_device``);
  ``on_redraw``: the draw was one the op can repeat (``ops.dropout``'s mask,
  see :func:`ember.engine.random.note_redraw`), so a replay draws again;
  any other draw makes the step untraceable;
- ``on_write``: a Variable is assigned during the step: untraceable, unless
  inside ``on_state_update`` (:func:`ember.engine.variable.state_update`,
  BatchNormalization's moving statistics), which the replay repeats with each
  step's values;
- ``on_alias``: an in-place write on a tensor (``y -= m`` in a layer's call) ran as an op on a stand-in
  for the tensor's value; from then on the tensor holds the op's result. The plan reads the values the
  write's readers saw; a write into a tensor the step did not make (an input, a constant), through a
  view, or into an array another value views makes the step untraceable.

Other threads (a prefetching ``Dataset.map``, concurrent ``predict`` calls)
are not recorded.
"""

from __future__ import annotations

from ..engine.function import recording


class Record:
    """One Function application: the function object, its input tensors, attrs and output tensors.

    ``redraw``: ``(attr name, redraw(device))`` when one attr is a random array drawn afresh each step.
    """

    __slots__ = ("fn", "inputs", "attrs", "outputs", "redraw")

    def __init__(self, fn, inputs, attrs, outputs, redraw=None):
        self.fn = fn
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        self.redraw = redraw


class StateUpdate:
    """A state write ``update(*tensors)`` made after ``position`` records (BatchNormalization's statistics)."""

    __slots__ = ("position", "update", "tensors")

    def __init__(self, position, update, tensors):
        self.position, self.update, self.tensors = position, update, tuple(tensors)


class Alias:
    """From record ``position`` on, reading ``tensor`` reads ``source``'s value (an in-place write)."""

    __slots__ = ("position", "tensor", "source")

    def __init__(self, position, tensor, source):
        self.position, self.tensor, self.source = position, tensor, source


class Tracer:
    """Context manager recording this thread's Function applications and the side effects a plan must know.

    After the block: ``records`` (list of :class:`Record`), ``state_updates``
    (list of :class:`StateUpdate`), ``aliases`` (list of :class:`Alias`) and
    ``problems`` (why the step cannot be replayed; empty when it can).
    """

    def __init__(self):
        self.records = []
        self.state_updates = []
        self.aliases = []
        self.problems = []
        self._draws = 0
        self._redraw = None
        self._in_update = False
        self._context = None

    # ---- the engine's recorder API ------------------------------------------------------------------
    def on_apply(self, fn, tensors, attrs, result):
        redraw, self._redraw = self._redraw, None
        if redraw is not None and redraw[0] not in attrs:
            self.problems.append(f"{fn.op_name()} does not take the drawn argument {redraw[0]!r}")
        self.records.append(Record(fn, tensors, attrs, result, redraw))

    def on_draw(self, generator):
        self._draws += 1

    def on_redraw(self, attr, redraw):
        self._draws -= 1  # the draw just made is understood
        self._redraw = (attr, redraw)

    def on_write(self, variable, how):
        if not self._in_update:
            self.problems.append(f"the step writes to Variable {variable.path!r} with {how}()")

    def on_state_update(self, update, tensors):
        self.state_updates.append(StateUpdate(len(self.records), update, tensors))
        self._in_update = True
        try:
            return update(*tensors)
        finally:
            self._in_update = False

    def on_alias(self, tensor, source, written):
        if written:
            problem = self._unsafe_write(tensor, source)
            if problem:
                self.problems.append(f"the step writes in place {problem}")
                return
        self.aliases.append(Alias(len(self.records), tensor, source))

    def _unsafe_write(self, x, result):
        """Why the in-place write of ``result`` into ``x`` cannot be replayed by reading ``result`` (else "")."""
        made = {id(t) for rec in self.records for t in rec.outputs}
        if id(x) not in made and all(a.tensor is not x for a in self.aliases):
            return "into a tensor the step did not make (an input, a constant or a leaf)"
        if x.data is result.data:  # x was given the result's array (it viewed another): nothing written through
            return ""
        if x.data.base is not None:
            return "through a view of another array"
        for rec in self.records:
            for t in rec.inputs + rec.outputs:
                if t is not x and getattr(t.data, "base", None) is x.data:
                    return "into an array another value of the step views"
        return ""

    # ---- install / remove -----------------------------------------------------------------------
    def __enter__(self):
        self._context = recording(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        self._context = None
        if self._draws > 0:
            self.problems.append(f"the step draws {self._draws} random array(s) outside ops.dropout()")
        return False
