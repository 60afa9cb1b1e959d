"""``Tracer``: record the Function applications of one eager step.

While a tracer is active, :func:`ember.engine.function.Function.apply` hands
every application to it (the engine's recording hook, ``function._recorder``).
The tracer keeps the function, its input tensors, its attrs and its outputs,
in order. It also watches what a plan of Function applications cannot
replay by itself, so the caller can refuse the trace and stay eager:

- random draws (``Generator.for_device``): a draw made by ``ops.dropout`` is
  understood (its seed source, shape and rate are kept so the replay draws
  again); any other draw makes the step untraceable;
- writes to Variables (``assign``, ``assign_add``, ``assign_sub``) during the
  forward pass: BatchNormalization's moving statistics are understood (the
  replay repeats the layer's update from the recorded batch moments); any
  other write makes the step untraceable.

The patches are installed for the duration of the ``with`` block only.
"""

from __future__ import annotations

import sys

from ..engine import function as _function
from ..engine.random import Generator
from ..engine.variable import Variable


class Record:
    """One Function application: the function object, its input tensors, attrs and output tensors."""

    __slots__ = ("fn", "inputs", "attrs", "outputs", "draw")

    def __init__(self, fn, inputs, attrs, outputs, draw=None):
        self.fn = fn
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        self.draw = draw  # a DropoutDraw when this is ops.dropout's Dropout


class DropoutDraw:
    """How ``ops.dropout`` made its mask: enough to draw a fresh one at replay."""

    __slots__ = ("seed", "shape", "draw_dtype", "rate", "dtype")

    def __init__(self, seed, shape, draw_dtype, rate, dtype):
        self.seed, self.shape, self.draw_dtype, self.rate, self.dtype = seed, shape, draw_dtype, rate, dtype

    def mask(self, device):
        """A new mask, drawn exactly as ``ops.dropout`` draws one."""
        from ..engine.random import _rng

        uniform = _rng(self.seed, device).random(self.shape, dtype=self.draw_dtype)
        mask = (uniform >= self.rate).astype(self.dtype)
        mask *= self.dtype.type(1.0 / (1.0 - self.rate))
        return mask


class StatUpdate:
    """BatchNormalization's moving-statistics update, fed by the batch mean and variance tensors."""

    __slots__ = ("layer", "mean", "variance")

    def __init__(self, layer, mean, variance):
        self.layer, self.mean, self.variance = layer, mean, variance


class Tracer:
    """Context manager recording Function applications and the side effects a plan must know about.

    After the block: ``records`` (list of :class:`Record`), ``stat_updates``
    (list of :class:`StatUpdate`, in call order, each placed after the record
    count at the time of the call in ``stat_positions``) and ``problems``
    (reasons the step cannot be replayed; empty when it can).
    """

    def __init__(self):
        self.records = []
        self.stat_updates = []
        self.problems = []
        self._draws = 0
        self._saved = None
        self._in_stat_update = False

    # ---- hooks ------------------------------------------------------------------------------------
    def _on_apply(self, fn, tensors, attrs, result):
        draw = None
        if type(fn).__name__ == "Dropout" and type(fn).__module__.endswith("ops.dropout"):
            draw = _dropout_draw(sys._getframe(2))
            if draw is None:
                self.problems.append("a dropout mask was made outside ops.dropout()")
            else:
                self._draws -= 1  # this draw is understood
        self.records.append(Record(fn, tensors, attrs, result, draw))

    def _on_draw(self, generator, device):
        self._draws += 1
        return self._saved["for_device"](generator, device)

    def _on_assign(self, name):
        original = self._saved[name]
        tracer = self

        def assign(variable, value):
            if not tracer._in_stat_update:
                tracer.problems.append(f"the step writes to Variable {variable.path!r} with {name}()")
            return original(variable, value)

        return assign

    def _on_stat_update(self, layer, mean, variance):
        self.stat_updates.append((len(self.records), StatUpdate(layer, mean, variance)))
        self._in_stat_update = True
        try:
            return self._saved["stats"](layer, mean, variance)
        finally:
            self._in_stat_update = False

    # ---- install / remove -----------------------------------------------------------------------
    def __enter__(self):
        from ..layers.normalization.batch_normalization import BatchNormalization

        if _function._recorder is not None:
            raise RuntimeError("ember.compile: a step is already being traced")
        self._saved = {
            "for_device": Generator.for_device,
            "assign": Variable.assign,
            "assign_add": Variable.assign_add,
            "assign_sub": Variable.assign_sub,
            "stats": BatchNormalization._update_moving_statistics,
        }
        tracer = self
        Generator.for_device = lambda generator, device: tracer._on_draw(generator, device)
        for name in ("assign", "assign_add", "assign_sub"):
            setattr(Variable, name, self._on_assign(name))
        BatchNormalization._update_moving_statistics = lambda layer, m, v: tracer._on_stat_update(layer, m, v)
        _function._recorder = self._on_apply
        return self

    def __exit__(self, *exc):
        from ..layers.normalization.batch_normalization import BatchNormalization

        _function._recorder = None
        Generator.for_device = self._saved["for_device"]
        for name in ("assign", "assign_add", "assign_sub"):
            setattr(Variable, name, self._saved[name])
        BatchNormalization._update_moving_statistics = self._saved["stats"]
        if self._draws > 0:
            self.problems.append(f"the step draws {self._draws} random array(s) outside ops.dropout()")
        return False


def _dropout_draw(frame):
    """The DropoutDraw of the ``ops.dropout.dropout`` call in ``frame``, or None if it is not one."""
    code = frame.f_code
    if code.co_name != "dropout" or not code.co_filename.replace("\\", "/").endswith("ops/dropout.py"):
        return None
    names = frame.f_locals
    try:
        x, rate, shape, seed, draw_dtype = (names[k] for k in ("x", "rate", "shape", "seed", "draw_dtype"))
    except KeyError:
        return None
    return DropoutDraw(seed, tuple(shape), draw_dtype, float(rate), x.dtype)
