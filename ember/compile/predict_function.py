"""``CompiledPredictFunction``: a model's inference forward, traced per input signature and replayed on arrays.

``predict`` calls the trainer's ``predict_step`` (``model(x, training=False)`` under ``no_grad``) batch after
batch; each call through ``Layer.__call__`` and ``Function.apply`` costs microseconds of Python per layer and
op, which dominates small batches. This function records that step's Function applications once per input
signature with a :class:`~ember.compile.tracer.Tracer` and replays them as a
:class:`~ember.compile.forward_plan.ForwardPlan` on raw arrays, the weights read from their Variables at each
batch: the outputs are eager ``predict``'s bits.

A signature is replayed once two traces of it agree (same operations, constant arrays and array arguments) on
batches that held different data (a repeated batch is probed once more with its rows reversed), so that
nothing computed from the data outside the ops (a mask made with NumPy, Python control flow on values) is
frozen into the plan unnoticed. Until then, and for good when a trace cannot be replayed (random draws,
writes to Variables, BatchNormalization updating its statistics, tensors made outside the call), the batch
runs eagerly: the traced call *is* the eager call, so its outputs are what is returned. The plans are dropped
when the model changes (:class:`~ember.compile.fingerprint.ModelWatch`, checked at each ``predict`` call).

Thread safety: ``predict`` may run from many threads at once (``ember serve`` does). A replay keeps all its
values in locals; tracing runs in the calling thread only (the recorder is a ``contextvars`` value), and the
table of plans is updated under a lock.
"""

from __future__ import annotations

import threading

import numpy

from ..engine.tensor import Tensor
from ..layers.layer import _as_tensor
from ..layers.symbolic import flatten, pack_like
from .forward_plan import ForwardPlan, UntraceableError
from .function import CompiledFunction, signature
from .tracer import Tracer

_NDARRAY = numpy.ndarray
_MAX_SIGNATURES = 32  # plans kept per model: batch shapes that vary without end (bucketed sequences) stay eager


class CompiledPredictFunction(CompiledFunction):
    """Runs ``model``'s inference forward on one batch, replaying a traced plan when it can.

    ``fn(x)`` takes a batch as predict's data adapter gives it (an array, or a
    list/dict of arrays) and returns the model's outputs as NumPy arrays in
    the model's output structure, exactly what eager
    ``model(x, training=False)`` under ``no_grad`` returns, converted.

    Args:
        model: a built Model.
    """

    eager = "the compiled predict step: batches run eagerly"

    def __init__(self, model):
        super().__init__(model)  # plans: signature -> ForwardPlan, (first trace, its input arrays), or a reason
        self.masked_outputs = False  # whether a traced call's outputs carried a mask (evaluate reads it)
        self._lock = threading.Lock()  # guards the table of plans while traces are kept or compared

    def __getstate__(self):
        return dict(super().__getstate__(), _lock=None)  # (a lock cannot be copied)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def check_model(self) -> None:
        """Drop the plans when anything they were traced from changed (see :mod:`ember.compile.fingerprint`)."""
        if self.watch.changed():
            with self._lock:
                self.plans = {}

    def __call__(self, x):
        if type(x) is _NDARRAY:
            flat, key = [x], (x.shape, x.dtype.str)
        else:
            flat = flatten(x)
            key = signature(x, flat)
        plan = self.plans.get(key)
        if plan is None and not self.model.built:  # the first call builds the weights: not part of a forward
            y = self._eager(x)
            self.watch.changed()  # (its new weights)
            return y
        if plan is None and len(self.plans) >= _MAX_SIGNATURES:
            plan = f"more than {_MAX_SIGNATURES} input signatures (shapes and dtypes); the new ones are not traced"
            self._warn(plan)
        if type(plan) is ForwardPlan:
            out = plan.run([_as_tensor(a).data for a in flat] if plan.convert else flat)
            return out[0] if plan.structure is None else pack_like(plan.structure, out)
        if type(plan) is str:
            return self._eager(x)
        return _numpy(self._trace(key, x, flat))

    def _eager(self, x):
        y = self.model.predict_step((x, None, None))
        self._note_masks(y)
        return _numpy(y)

    def _note_masks(self, y) -> None:
        if any(getattr(t, "_keras_mask", None) is not None for t in flatten(y)):
            self.masked_outputs = True

    def replay(self, x):
        """The generated forward of the plan for batches shaped as the array ``x`` (one array in, one out).

        ``run(x_batch)`` returns ``[output]``, what ``self(x_batch)`` returns wrapped in a list. None while
        that signature has no plan (it is still being traced, or runs eagerly) or the plan takes or gives more.
        """
        plan = self.plans.get((x.shape, x.dtype.str))
        if type(plan) is not ForwardPlan or plan.structure is not None or plan.convert or len(plan.output_slots) != 1:
            return None
        return plan.function()

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, x, flat):
        """Run the batch eagerly under a tracer; keep the trace, or the plan once two traces agree."""
        y, plan, tensors = self._traced_call(x, flat)
        with self._lock:
            return self._keep_trace(key, x, y, plan, tensors)

    def _keep_trace(self, key, x, y, plan, tensors):
        plans = self.plans
        if isinstance(plan, str):
            self._stay_eager(key, plan)
            return y
        arrays = [t.data for t in tensors]
        first = plans.get(key)
        if first is None:
            plans[key] = (plan, [a.copy() for a in arrays])  # a copy: a view would keep the caller's x alive
            return y
        if type(first) is not tuple:  # another thread made the plan (or gave up) meanwhile
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
        if first[0].compatible(plan)[0]:
            plans[key] = plan
        else:
            self._stay_eager(key, "the operations or their constants differ between two batches")
        return y

    def _traced_call(self, x, flat):
        """``(outputs, ForwardPlan or the reason there is none, input tensors)`` of one eager call on ``flat``."""
        tensors = [_as_tensor(a) for a in flat]
        with Tracer() as tracer:  # the trainer's own predict_step (no_grad, training=False)
            y = self.model.predict_step((tensors[0] if type(x) is _NDARRAY else pack_like(x, tensors), None, None))
        self._note_masks(y)
        try:
            plan = ForwardPlan(tracer, tensors, flatten(y))
        except UntraceableError as e:
            return y, str(e), tensors
        plan.structure = pack_like(y, [None] * len(flatten(y)))  # None: one output
        plan.convert = any(t.data is not a for t, a in zip(tensors, flat))
        return y, plan, tensors

    def _stay_eager(self, key, reason):
        self.plans[key] = reason
        self._warn(reason)


def _same_data(a, b) -> bool:
    return all(x.shape == y.shape and bool((x == y).all()) for x, y in zip(a, b))


def _numpy(y):
    if isinstance(y, Tensor):
        return y.numpy()
    return pack_like(y, [t.numpy() for t in flatten(y)])
