"""``CompiledTrainFunction``: a model's training step, traced per input signature and replayed.

The step is the trainer's own ``train_step``, in its two halves: ``Trainer._train_forward`` (forward and
loss) and ``Trainer._train_update`` (running loss, backward, optimizer update, metrics). For each signature
(the structure, shapes and dtypes of x, y and sample_weight) the first two batches run the eager step with
its first half under a :class:`~ember.compile.tracer.Tracer`. Each trace becomes a
:class:`~ember.compile.plan.StepPlan` (that half and its backward, on arrays); if the two agree (same
operations, same constants: nothing depended on the data outside the ops) later batches of that signature
replay the plan and hand its loss, outputs and gradients to ``_train_update``. A step that cannot be
replayed (random draws outside ``ops.dropout``, writes to Variables other than BatchNormalization's
statistics, data-dependent Python control flow) stays eager for that signature, with one warning.

The replay gives the eager step's numbers bit for bit. Plans are dropped by :meth:`check_model` (when a
``fit`` starts and at each epoch) when the model's fingerprint, the trainable weights, or the optimizer,
loss or metrics objects changed: a frozen layer, a new activation or dropout rate is never replayed stale.
Not thread-safe: one ``fit`` per model at a time (the plans reuse their arrays and Function objects).
"""

from __future__ import annotations

import numpy

from ..engine.sparse_grad import RowSparseGrad
from ..engine.tensor import Tensor
from ..layers.layer import _as_tensor
from ..layers.symbolic import flatten, pack_like
from .function import CompiledFunction, signature
from .plan import StepPlan, UntraceableError
from .tracer import Tracer

_TRACES_TO_AGREE = 2
_NDARRAY = numpy.ndarray


class CompiledTrainFunction(CompiledFunction):
    """Runs ``model``'s training step for one batch, replaying a traced plan when it can.

    Args:
        model: a compiled Model (the Trainer: ``_train_forward``, ``_train_update``, ``trainable_weights``,
            ``optimizer``, ``_compiled_loss``, ``_compiled_metrics``).
        force: ``jit_compile=True``: warn louder when a step must stay eager.
    """

    accepts_return_logs = True  # fit may call it with return_logs=False (see Trainer.fit)

    def __init__(self, model, force=False):
        super().__init__(model)
        self.loud = force
        self.eager = f"{'jit_compile=True' if force else 'the compiled training step'}: this step runs eagerly"
        self.key = None  # the weights, optimizer, loss and metrics the plans were traced with (see check_model)
        self.weights = None
        self.traces = 0  # steps traced, and steps replayed from a plan (for tests and diagnostics)
        self.replays = 0
        self._had_targets = True
        self._into_tensors = (None, None)  # the optimizer's gradient buffers, each wrapped once as w.grad

    def __getstate__(self):
        return dict(super().__getstate__(), weights=None, key=None, _into_tensors=(None, None))

    def check_model(self) -> None:
        """Re-read the trainable weights and the model's fingerprint; drop every plan if anything changed.

        ``fit`` calls this when it starts and at each epoch (and after batch
        callbacks, which may change the model), as Keras 3's trainer re-reads
        the trainable variables.
        """
        model = self.model
        weights = list(model.trainable_weights)
        key = (tuple(map(id, weights)), id(model.optimizer), id(model._compiled_loss), id(model._compiled_metrics))
        if self.watch.changed() or key != self.key:
            self.key, self.weights, self.plans = key, weights, {}

    def __call__(self, data, return_logs=True):
        """Train on one batch ``(x, y, sample_weight)``; the logs (None when ``return_logs`` is False)."""
        x, y, sample_weight = data
        self._had_targets = y is not None
        if sample_weight is None and type(x) is _NDARRAY and (y is None or type(y) is _NDARRAY):
            flat, key = ([x], (x.shape, x.dtype)) if y is None else ([x, y], (x.shape, x.dtype, y.shape, y.dtype))
        else:
            flat = flatten(x) + ([] if y is None else flatten(y)) + ([] if sample_weight is None else [sample_weight])
            key = signature((x, y, sample_weight), flat)
        entry = self.plans.get(key)
        if type(entry) is StepPlan:
            return self._replay(entry, data, [_as_tensor(a).data for a in flat] if entry.convert else flat, return_logs)
        if type(entry) is str:
            logs = self.model.train_step(data)
        else:
            logs = self._trace(key, entry or [], data, flat)
        return logs if return_logs else None

    def logs(self) -> dict:
        """The running loss and metrics, as the last batch's logs would give them."""
        return self.model._current_logs(self._had_targets)

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, traces, data, flat):
        """The trainer's own step on this batch, its forward and loss traced (``Trainer._train_forward``)."""
        model = self.model
        x, y, sample_weight = data
        if self.key is None:
            self.check_model()
        weights = self.weights
        self.traces += 1
        tensors = [_as_tensor(a) for a in flat]
        tx = pack_like(x, tensors[: len(flatten(x))])
        rest = tensors[len(flatten(x)) :]
        ty = None if y is None else pack_like(y, rest[: len(flatten(y))])
        tw = None if sample_weight is None else rest[-1]
        with Tracer() as tracer:
            y_pred, loss = model._train_forward(tx, ty, tw, weights)
        outputs = flatten(y_pred)
        # several losses: each one's running mean (``<output>_loss``) is fed from its value in the plan
        trackers = [] if model._compiled_loss is None else model._compiled_loss.trackers
        plan = None
        if not weights:
            self.plans[key] = "the model has no trainable weights"
        else:
            try:
                parts = [model._compiled_loss.last_parts[i] for i, _, _ in trackers]
                plan = StepPlan(tracer, tensors, loss, outputs + parts, weights)
                plan.n_outputs = len(outputs)
                plan.structure = pack_like(y_pred, [None] * len(outputs))  # None: one output
                plan.convert = any(t.data is not a for t, a in zip(tensors, flat))  # the batch needs converting
            except UntraceableError as e:
                self.plans[key] = str(e)
                self._warn(str(e))
        logs = model._train_update(tx, y, y_pred, sample_weight, loss, weights)  # backward and update, eagerly
        if plan is not None:
            traces.append(plan)
            if len(traces) < _TRACES_TO_AGREE:
                self.plans[key] = traces
            else:
                ok, why = traces[0].compatible(plan)
                self.plans[key] = plan if ok else why
                if not ok:
                    self._warn(why)
        return logs

    # ---- replay --------------------------------------------------------------------------------------
    def _replay(self, plan, data, arrays, return_logs):
        """The plan's forward, loss and backward on ``arrays``, then the rest of the trainer's own step."""
        model = self.model
        x, y, sample_weight = data
        weights = self.weights
        self.replays += 1
        optimizer = model.optimizer
        # the optimizer's flat gradient buffers (see Optimizer._update), written straight into by the backward;
        # its apply then takes them as they lie (Optimizer.flat_layout)
        layout = optimizer.flat_layout(weights) if optimizer.built else None
        into = None if layout is None else layout.gradient_views(len(weights))
        loss, outputs, grads = plan.replay(arrays, into)
        if plan.n_outputs != len(outputs):  # several losses: the plan gives each one's value for its running mean
            outputs, parts = outputs[: plan.n_outputs], outputs[plan.n_outputs :]
            model._compiled_loss.track(parts, outputs)
        held = into is not None and layout.holds(grads)  # every flat gradient written into its view
        if held:
            if self._into_tensors[0] is not into:  # each gradient view wrapped once as w.grad
                self._into_tensors = (into, [None if v is None else Tensor._wrap(v) for v in into])
            for w, g, t in zip(weights, grads, self._into_tensors[1]):
                w.grad = t if t is not None else _wrap(g)
        else:
            for w, g in zip(weights, grads):
                w.grad = None if g is None else _wrap(g)
        # the outputs for the metrics: one as its array (their lean update), several as tensors
        y_pred = outputs[0] if plan.structure is None else pack_like(plan.structure, [Tensor._wrap(o) for o in outputs])
        return model._train_update(x, y, y_pred, sample_weight, loss, weights, grads, logs=return_logs)


def _wrap(g):
    return g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)
