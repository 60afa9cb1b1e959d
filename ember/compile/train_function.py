"""``CompiledTrainFunction``: a model's training step, traced per input signature and replayed.

For each signature (the structure, shapes and dtypes of x, y and
sample_weight) the first two batches run the eager step under a
:class:`~ember.compile.tracer.Tracer`. Each trace becomes a
:class:`~ember.compile.plan.StepPlan`; if the two agree (same operations,
same constants: nothing in the step depended on the data outside the ops)
later batches of that signature replay the plan. A step that cannot be
replayed (random draws outside ``ops.dropout``, writes to Variables other
than BatchNormalization's statistics, data-dependent Python control flow,
several tracked losses) stays eager for that signature, with one warning.

The replay gives the eager step's numbers bit for bit, except where a fusion
is enabled (``fuse=True``, see :mod:`ember.compile.fusion`).
"""

from __future__ import annotations

import warnings

from ..engine.tensor import Tensor
from ..layers.symbolic import flatten, pack_like
from .fusion import fuse_plan
from .plan import StepPlan, UntraceableError
from .tracer import Tracer

_TRACES_TO_AGREE = 2


class CompiledTrainFunction:
    """Runs ``model``'s training step for one batch, replaying a traced plan when it can.

    Args:
        model: a compiled Model (the Trainer's interface: ``__call__``,
            ``compute_loss``, ``trainable_weights``, ``optimizer``, ``_loss_tracker``,
            ``_metric_logs``).
        fuse: apply the plan fusions (softmax with cross-entropy).
        force: ``jit_compile=True``: warn louder when a step must stay eager.
    """

    def __init__(self, model, fuse=True, force=False):
        self.model = model
        self.fuse = fuse
        self.force = force
        self.plans = {}  # signature -> StepPlan, a list of traces so far, or the reason it stays eager
        self.weights = None
        self.warned = set()

    def __call__(self, data) -> dict:
        x, y, sample_weight = data
        flat = flatten(x) + ([] if y is None else flatten(y)) + ([] if sample_weight is None else [sample_weight])
        key = (_structure(x), _structure(y), sample_weight is None, tuple((a.shape, a.dtype.str) for a in flat))
        entry = self.plans.get(key)
        if isinstance(entry, StepPlan):
            return self._replay(entry, data, flat)
        if isinstance(entry, str):
            return self.model.train_step(data)
        return self._trace(key, entry or [], data, flat)

    # ---- tracing ------------------------------------------------------------------------------------
    def _trace(self, key, traces, data, flat):
        model = self.model
        x, y, sample_weight = data
        reason = _eager_only(model)
        if reason:
            return self._stay_eager(key, reason, data)
        if self.weights is None:
            self.weights = list(model.trainable_weights)
        weights = self.weights
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
        plan = None
        if weights:
            try:
                plan = StepPlan(tracer, tensors, loss, flatten(y_pred), weights)
            except UntraceableError as e:
                self.plans[key] = str(e)
                self._warn(str(e))
            loss.backward()
            model.optimizer.apply([w.grad for w in weights], weights)
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
                    if self.fuse:
                        fuse_plan(plan)
                    plan.structure = y_pred
                    self.plans[key] = plan
                else:
                    self.plans[key] = why
                    self._warn(why)
        return model._metric_logs(y, y_pred, sample_weight)

    def _stay_eager(self, key, reason, data):
        self.plans[key] = reason
        self._warn(reason)
        return self.model.train_step(data)

    def _warn(self, reason):
        """Say once per reason that steps run eagerly."""
        if reason not in self.warned:
            self.warned.add(reason)
            what = "jit_compile=True" if self.force else "the compiled training step"
            warnings.warn(f"{what}: this step runs eagerly: {reason}", RuntimeWarning, stacklevel=4)

    # ---- replay --------------------------------------------------------------------------------------
    def _replay(self, plan, data, flat):
        model = self.model
        x, y, sample_weight = data
        loss, outputs, grads = plan.replay([Tensor(a).data for a in flat])
        model._loss_tracker.update(float(loss), _batch_size(flat[0]))
        weights = self.weights
        for w, g in zip(weights, grads):
            w.grad = None if g is None else (g if not hasattr(g, "shape") or isinstance(g, Tensor) else _wrap(g))
        model.optimizer.apply(grads, weights)
        y_pred = pack_like(plan.structure, [Tensor._wrap(o) for o in outputs])
        return model._metric_logs(y, y_pred, sample_weight)


def _wrap(g):
    from ..engine.sparse_grad import RowSparseGrad

    return g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)


def _eager_only(model) -> str:
    """Why ``model``'s step cannot be compiled at all (empty if it can)."""
    compiled_loss = getattr(model, "_compiled_loss", None)
    if compiled_loss is not None and compiled_loss.trackers:
        return "the model tracks several losses (one per output); their running means are updated eagerly"
    return ""


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
