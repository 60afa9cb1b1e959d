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
        self._layout = None  # the optimizer's flat layout of the weights, for this replay's update

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
        state.update(
            plans={}, _fast={}, weights=None, key=None, _snapshot=None, _into_tensors=(None, None), _layout=None
        )
        return state

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, traces, data, flat):
        """The trainer's own step on this batch, its forward and loss traced (``Trainer._train_forward``)."""
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
        with Tracer() as tracer:
            y_pred, loss = model._train_forward(tx, ty, tw, weights)
        outputs = flatten(y_pred)
        # several losses: each one's running mean (``<output>_loss``) is fed from its value in the plan
        compiled_loss = getattr(model, "_compiled_loss", None)
        trackers = [] if compiled_loss is None else compiled_loss.trackers
        plan = None
        if not weights:
            self.plans[key] = "the model has no trainable weights"
        else:
            try:
                plan = StepPlan(
                    tracer, tensors, loss, outputs + [compiled_loss.last_parts[i] for i, _, _ in trackers], weights
                )
                plan.n_outputs = len(outputs)
                plan.trackers = [(tracker, _batch_size(outputs[i])) for i, _, tracker in trackers]
                plan.structure = pack_like(y_pred, [None] * len(outputs))  # None: one output
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
        """The plan's forward, loss and backward on ``arrays``, then the rest of the trainer's own step."""
        model = self.model
        x, y, sample_weight = data
        weights = self.weights
        self.replays += 1
        optimizer = model.optimizer
        # the optimizer's flat gradient buffers (see Optimizer._update), written straight into by the backward
        layout = self._layout = optimizer.flat_layout(weights) if optimizer.built else None
        into = None if layout is None else layout.gradient_views(len(weights))
        loss, outputs, grads = plan.replay(arrays, into)
        if plan.trackers:
            for (tracker, count), value in zip(plan.trackers, outputs[plan.n_outputs :]):
                tracker.update(value.item(), count)
            outputs = outputs[: plan.n_outputs]
        if into is not None and self._into_tensors[0] is not into:  # each gradient view wrapped once as w.grad
            self._into_tensors = (into, [None if v is None else Tensor._wrap(v) for v in into])
        views = self._into_tensors[1] if into is not None else [None] * len(weights)
        for w, g, t in zip(weights, grads, views):
            w.grad = t if t is not None and t.data is g else None if g is None else _wrap(g)
        # the outputs for the metrics: one as its array (their lean update), several as tensors
        y_pred = outputs[0] if plan.structure is None else pack_like(plan.structure, [Tensor._wrap(o) for o in outputs])
        apply = self._apply_flat if into is not None else None
        return model._train_update(x, y, y_pred, sample_weight, loss, weights, grads, apply, return_logs)

    def _apply_flat(self, grads, weights):
        """``optimizer.apply`` without its checks when the gradients lie in its flat buffers, as written there."""
        optimizer, layout = self.model.optimizer, self._layout
        if layout.holds(grads) and layout.prepare():
            optimizer.apply_flat(layout.groups, weights, [(grads[k], weights[k]) for k in layout.rest])
        else:
            optimizer.apply(grads, weights)


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
