"""``CompiledTrainFunction``: a model's training step, traced per input signature and replayed.

For each signature (the structure, shapes and dtypes of x, y and
sample_weight) the first two batches run the eager step under a
:class:`~ember.compile.tracer.Tracer`. Each trace becomes a
:class:`~ember.compile.plan.StepPlan`; if the two agree (same operations,
same constants: nothing in the step depended on the data outside the ops)
later batches of that signature replay the plan. A step that cannot be
replayed (random draws outside ``ops.dropout``, writes to Variables other
than BatchNormalization's statistics, data-dependent Python control flow)
stays eager for that signature, with one warning.

The replay gives the eager step's numbers bit for bit. Plans are keyed on
the input signature and on the model's :func:`~ember.compile.fingerprint.fingerprint`
(its layers' configuration and callables, the list of trainable weights, the
optimizer, loss and metrics objects), re-read by :meth:`check_model` when a
``fit`` starts and at each epoch: any change traces again, so a frozen layer,
a new activation or a new dropout rate is never replayed stale.

Not thread-safe: one ``fit`` per model at a time (the plans reuse their
arrays and Function objects from step to step).
"""

from __future__ import annotations

import logging
import os
import warnings

import numpy

from ..engine.tensor import Tensor
from ..layers.symbolic import flatten, pack_like
from .fingerprint import Snapshot, fingerprint
from .plan import StepPlan, UntraceableError
from .tracer import Tracer

_TRACES_TO_AGREE = 2
_NDARRAY = numpy.ndarray


class CompiledTrainFunction:
    """Runs ``model``'s training step for one batch, replaying a traced plan when it can.

    Args:
        model: a compiled Model (the Trainer's interface: ``__call__``,
            ``compute_loss``, ``trainable_weights``, ``optimizer``, ``_loss_tracker``,
            ``_metric_logs``).
        force: ``jit_compile=True``: warn louder when a step must stay eager.
    """

    def __init__(self, model, force=False):
        self.model = model
        self.force = force
        self.key = None  # what the plans were traced from (see check_model)
        self._snapshot = None  # a fingerprint.Snapshot vouching for the fingerprint in self.key
        self.traces = 0  # steps traced, and steps replayed from a plan (for tests and diagnostics)
        self.replays = 0
        self.plans = {}  # signature -> StepPlan, a list of traces so far, or the reason it stays eager
        self.weights = None
        self.warned = set()
        self._fast = {}  # (x shape, x dtype, (y shape, y dtype) or None) -> StepPlan, for plain array batches
        self._had_targets = True
        self._into_tensors = (None, None)  # the optimizer's gradient buffers, each wrapped once as w.grad

    accepts_return_logs = True  # fit may call it with return_logs=False (see Trainer.fit)

    def check_model(self) -> None:
        """Re-read the trainable weights and the model's fingerprint; drop every plan if anything changed.

        ``fit`` calls this when it starts and at each epoch (and after batch
        callbacks, which may change the model), as Keras 3's trainer re-reads
        the trainable variables.
        """
        model = self.model
        weights = list(model.trainable_weights)
        snapshot = self._snapshot
        if snapshot is not None and self.key is not None and snapshot.holds(model):  # nothing it reads was replaced
            print_ = self.key[1]
        else:
            snapshot = Snapshot(model)  # before the fingerprint: a change in between shows next time
            print_ = fingerprint(model)
        self._snapshot = snapshot
        key = (
            tuple(id(w) for w in weights),
            print_,
            id(model.optimizer),
            id(getattr(model, "_compiled_loss", None)),
            id(getattr(model, "_compiled_metrics", None)),
        )
        if key != self.key:
            self.key = key
            self.weights = weights
            self.plans = {}
            self._fast = {}

    def __call__(self, data, return_logs=True):
        """Train on one batch ``(x, y, sample_weight)``; the logs (None when ``return_logs`` is False)."""
        x, y, sample_weight = data
        self._had_targets = y is not None
        if sample_weight is None and type(x) is _NDARRAY and (y is None or type(y) is _NDARRAY):
            # the common case, looked up without building the general key
            plan = self._fast.get((x.shape, x.dtype, None if y is None else (y.shape, y.dtype)))
            if plan is not None:
                return self._replay(plan, data, [x] if y is None else [x, y], return_logs)
        flat = flatten(x) + ([] if y is None else flatten(y)) + ([] if sample_weight is None else [sample_weight])
        key = (_structure(x), _structure(y), sample_weight is None, tuple((a.shape, a.dtype.str) for a in flat))
        entry = self.plans.get(key)
        if isinstance(entry, StepPlan):
            self._remember_fast(entry, data)
            return self._replay(entry, data, [_as_input(a) for a in flat], return_logs)
        if isinstance(entry, str):
            logs = self.model.train_step(data)
        else:
            logs = self._trace(key, entry or [], data, flat)
        return logs if return_logs else None

    def logs(self) -> dict:
        """The running loss and metrics, as the last batch's logs would give them."""
        return self.model._current_logs(self._had_targets)

    def _remember_fast(self, plan, data):
        x, y, sample_weight = data
        if sample_weight is None and type(x) is _NDARRAY and (y is None or type(y) is _NDARRAY):
            if (
                plan.device.type == "cpu"
                and _host_default()
                and all(a.dtype != numpy.float64 for a in ([x] if y is None else [x, y]))
            ):
                self._fast[(x.shape, x.dtype, None if y is None else (y.shape, y.dtype))] = plan

    def __getstate__(self):
        # the plans belong to this process's arrays: a copy traces again
        state = dict(self.__dict__)
        state.update(plans={}, _fast={}, weights=None, key=None, _snapshot=None, _into_tensors=(None, None))
        return state

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, traces, data, flat):
        model = self.model
        x, y, sample_weight = data
        if self.key is None:
            self.check_model()
        weights = self.weights
        self.traces += 1
        tensors = [Tensor(a) for a in flat]
        tx = pack_like(x, tensors[: len(flatten(x))])
        rest = tensors[len(flatten(x)) :]
        ty = None if y is None else pack_like(y, rest[: len(flatten(y))])
        tw = None if sample_weight is None else rest[-1]
        for w in weights:
            w.grad = None
        tracer = Tracer()
        with tracer:
            y_pred = model(tx, training=True)
            loss = model.compute_loss(tx, ty, y_pred, tw, training=True)
        model._loss_tracker.update(loss.item(), _batch_size(flat[0]))
        outputs = flatten(y_pred)
        # several losses: each one's running mean (``<output>_loss``) is fed from its value in the plan
        compiled_loss = getattr(model, "_compiled_loss", None)
        trackers = [] if compiled_loss is None else compiled_loss.trackers
        parts = [compiled_loss.last_parts[i] for i, _, _ in trackers]
        plan = None
        if weights:
            try:
                plan = StepPlan(tracer, tensors, loss, outputs + parts, weights)
                plan.n_outputs = len(outputs)
                plan.trackers = [(tracker, _batch_size(outputs[i])) for i, _, tracker in trackers]
            except UntraceableError as e:
                self.plans[key] = str(e)
                self._warn(str(e))
            loss.backward()
            grads = [w.grad for w in weights]
            if _data_parallel() is not None:  # DataParallel on MPI: averaged over the processes
                grads = _data_parallel().average_gradients(grads)
            model.optimizer.apply(grads, weights)
        else:
            self.plans[key] = "the model has no trainable weights"
            warnings.warn("The model does not have any trainable weights.", stacklevel=3)
        if plan is not None:
            traces.append(plan)
            if len(traces) < _TRACES_TO_AGREE:
                self.plans[key] = traces
            else:
                ok, why = traces[0].compatible(plan)
                if ok:
                    plan.structure = y_pred
                    self.plans[key] = plan
                else:
                    self.plans[key] = why
                    self._warn(why)
        return model._metric_logs(y, y_pred, sample_weight)

    def _warn(self, reason):
        """Say once per reason that steps run eagerly."""
        if reason not in self.warned:
            self.warned.add(reason)
            what = "jit_compile=True" if self.force else "the compiled training step"
            message = f"{what}: this step runs eagerly: {reason}"
            # silent by default, as Keras is: said when asked for (EMBER_VERBOSE, the "ember" logger at INFO)
            # or when jit_compile=True was requested
            logging.getLogger("ember.compile").info(message)
            if self.force or os.environ.get("EMBER_VERBOSE", "0") not in ("", "0"):
                warnings.warn(message, RuntimeWarning, stacklevel=4)

    # ---- replay --------------------------------------------------------------------------------------
    def _replay(self, plan, data, arrays, return_logs):
        model = self.model
        x, y, sample_weight = data
        weights = self.weights
        self.replays += 1
        optimizer = model.optimizer
        # the optimizer's flat gradient buffers (see Optimizer._update), written straight into by the backward
        layout = optimizer.flat_layout(weights) if optimizer is not None and optimizer.built else None
        into = None if layout is None else layout.gradient_views(len(weights))
        loss, outputs, grads = plan.replay(arrays, into)
        dist = _data_parallel()
        if dist is not None:  # DataParallel on MPI: averaged over the processes, in the flat buffers
            grads = dist.average_step_gradients(grads, layout)
        model._loss_tracker.update(loss.item(), _batch_size(arrays[0]))
        if plan.trackers:
            for (tracker, count), value in zip(plan.trackers, outputs[plan.n_outputs :]):
                tracker.update(value.item(), count)
            outputs = outputs[: plan.n_outputs]
        if into is not None and layout.holds(grads) and layout.prepare():
            # the flat gradients are in their views, the others present, all trainable: apply's checks hold
            if self._into_tensors[0] is not into:
                self._into_tensors = (into, [None if v is None else Tensor._wrap(v) for v in into])
            for w, g, t in zip(weights, grads, self._into_tensors[1]):
                w.grad = t if t is not None else _wrap(g)
            optimizer.apply_flat(layout.groups, weights, [(grads[k], weights[k]) for k in layout.rest])
        else:
            for w, g in zip(weights, grads):
                w.grad = None if g is None else _wrap(g)
            optimizer.apply(grads, weights)
        metrics = model._compiled_metrics
        if y is not None and metrics is not None:
            lean = plan.metrics_update
            if lean is None or lean[0] is not metrics or type(y) is not _NDARRAY:
                lean = plan.metrics_update = (metrics, _lean_metrics(metrics, y, outputs, sample_weight))
            if lean[1] is not None:
                lean[1](y, outputs[0])
            else:
                y_pred = pack_like(plan.structure, [Tensor._wrap(o) for o in outputs])
                metrics.update(model, model._compiled_loss, y, y_pred, sample_weight)
        return model._current_logs(y is not None) if return_logs else None


def _data_parallel():
    """``ember.distribution.fit_hooks`` when a DataParallel distribution over several processes is set, else None."""
    global _fit_hooks
    if _fit_hooks is None:  # imported on the first step (not with ember.compile), then called directly
        from ..distribution.active import fit_hooks as _fit_hooks
    return _fit_hooks()


_fit_hooks = None


def _lean_metrics(metrics, y, outputs, sample_weight):
    """The compiled metrics' lean per-batch update for one output (CompiledMetrics.lean_update), or None."""
    if sample_weight is not None or len(outputs) != 1 or type(y) is not _NDARRAY:
        return None
    lean = getattr(metrics, "lean_update", None)
    return None if lean is None else lean(y, outputs[0])


def _wrap(g):
    from ..engine.sparse_grad import RowSparseGrad

    return g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)


def _as_input(a):
    """A batch array as the plan's input: host arrays as they are (float64 becomes floatx), others via Tensor."""
    if type(a) is _NDARRAY and a.dtype != numpy.float64 and _host_default():
        return a
    return Tensor(a).data


def _host_default() -> bool:
    from ..backend.device import default_device

    return default_device().type == "cpu"


def _structure(s):
    if s is None:
        return None
    if isinstance(s, dict):
        return ("dict", tuple(sorted(s)))
    if isinstance(s, (list, tuple)):
        return (type(s).__name__, len(s))
    return "array"


def _batch_size(a) -> int:
    return int(a.shape[0]) if a.ndim else 1
