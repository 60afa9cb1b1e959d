"""What ``compile`` turns its ``loss`` and ``metrics`` arguments into, for one or several outputs."""

from __future__ import annotations

import numpy

from ..engine.tensor import Tensor
from ..layers.symbolic import flatten


def _output_names(model, n_outputs):
    names = getattr(model, "output_names", None)
    if names and len(names) == n_outputs:
        return list(names)
    outputs = getattr(model, "_flat_outputs", None)
    if outputs and len(outputs) == n_outputs:
        return [t.node.layer.name if t.node is not None else f"output_{i}" for i, t in enumerate(outputs)]
    return [f"output_{i}" for i in range(n_outputs)]


def _per_output(spec, names, what):
    """Spread ``spec`` (one item, a list in output order, or a dict by output name) over the outputs."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} given for unknown outputs {unknown}; the outputs are {names}")
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)) and n > 1:
        if len(spec) != n:
            raise ValueError(f"compile: {what} has {len(spec)} entries for a model with {n} outputs")
        return list(spec)
    return [spec] * n if n == 1 or spec is None or not isinstance(spec, (list, tuple)) else list(spec)


class CompiledLoss:
    """The loss (or losses, one per output, weighted) a compiled model minimises."""

    def __init__(self, loss, loss_weights=None):
        self.spec = loss
        self.loss_weights = loss_weights
        self.losses = None
        self.names = None
        self.trackers = []  # (output index, log name, running mean): one per loss when there are several
        self.last_parts = None  # the per-output loss tensors of the last call (None where an output has none)

    def build(self, model, n_outputs):
        from .. import losses

        self.names = _output_names(model, n_outputs)
        specs = _per_output(self.spec, self.names, "loss")
        self.losses = [_as_loss_object(losses, s) if s is not None else None for s in specs]
        if self.loss_weights is None:
            self.weights = [1.0] * n_outputs
        elif isinstance(self.loss_weights, dict):
            self.weights = [float(self.loss_weights.get(n, 1.0)) for n in self.names]
        else:
            self.weights = [float(w) for w in flatten(self.loss_weights)]
            if len(self.weights) != n_outputs:
                raise ValueError(f"compile: loss_weights has {len(self.weights)} entries for {n_outputs} outputs")
        # like Keras, a model with several losses also logs each one (unweighted) as `<output>_loss`
        given = [i for i, fn in enumerate(self.losses) if fn is not None]
        self.trackers = [(i, f"{self.names[i]}_loss", RunningMean()) for i in given] if len(given) > 1 else []

    def __call__(self, model, y, y_pred, sample_weight=None):
        """The weighted total loss (a scalar Tensor) and the per-output losses."""
        flat_pred = flatten(y_pred)
        if self.losses is None:
            self.build(model, len(flat_pred))
        flat_true = _match_targets(y, flat_pred, self.names)
        total, parts = None, []
        for fn, weight, yt, yp in zip(self.losses, self.weights, flat_true, flat_pred):
            if fn is None or yt is None:
                parts.append(None)
                continue
            value = fn(yt, yp, sample_weight=sample_weight)
            parts.append(value)
            term = value * weight if weight != 1.0 else value
            total = term if total is None else total + term
        self.last_parts = parts  # the compiled step replays the per-output losses its trackers read
        self.track([parts[i] for i, _, _ in self.trackers], flat_pred)
        return total, parts

    def track(self, values, flat_pred) -> None:
        """Feed each per-output loss's running mean (``<output>_loss``) its value, weighted by the batch size.

        ``values``: one scalar (tensor or array) per tracker, in order; ``flat_pred``: the model's outputs.
        """
        for (index, _, tracker), value in zip(self.trackers, values):
            yp = flat_pred[index]
            tracker.update(float(value.item()), int(yp.shape[0]) if yp.ndim else 1)

    def reset(self):
        for _, _, tracker in self.trackers:
            tracker.reset()

    def results(self) -> dict:
        """The running per-output losses, ``{"<output>_loss": value}`` (empty for one loss)."""
        return {name: tracker.result() for _, name, tracker in self.trackers}


class RunningMean:
    """The mean of values weighted by counts (Keras's loss trackers, weighted by batch size)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.total = 0.0
        self.count = 0.0

    def update(self, value: float, weight: float):
        self.total += value * weight
        self.count += weight

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def _as_loss_object(losses, spec):
    """A Loss object for ``spec``: loss functions (by name or callable) are wrapped as Keras's compile does."""
    loss = losses.get(spec)
    if isinstance(loss, losses.Loss):
        return loss
    return losses.LossFunctionWrapper(loss, name=getattr(loss, "__name__", None))


def _match_targets(y, flat_pred, names):
    if isinstance(y, dict):
        return [y.get(n) for n in names]
    flat = flatten(y) if isinstance(y, (list, tuple)) and len(flat_pred) > 1 else [y]
    if len(flat) != len(flat_pred):
        raise ValueError(f"the model has {len(flat_pred)} outputs but {len(flat)} targets were given")
    return flat


class CompiledMetrics:
    """The metrics of a compiled model, per output, resolved once the first batch shows the shapes.

    Names follow Keras 3: a metric given as a string is named by that string
    (``"mae"`` logs as ``mae``, ``"acc"`` as ``acc``), an object by its own name;
    with several outputs the log name is ``<output name>_<metric name>``; a
    repeated name gets ``_1``, ``_2``, ... and a weighted metric whose name is
    taken gets ``weighted_`` in front.
    """

    def __init__(self, metrics, weighted_metrics=None):
        self.spec = metrics
        self.weighted_spec = weighted_metrics
        self.metrics = None  # list of (output index, metric, weighted, log name)
        self.names = None

    def build(self, model, compiled_loss, y_true_flat, y_pred_flat):
        from .. import metrics as metrics_module

        n = len(y_pred_flat)
        self.names = _output_names(model, n)
        self.metrics = []
        taken = {}
        for weighted, spec in ((False, self.spec), (True, self.weighted_spec)):
            if not spec:
                continue
            per_output = _metric_lists(spec, self.names)
            for i, items in enumerate(per_output):
                prefix = f"{self.names[i]}_" if n > 1 else ""
                for item in items:
                    metric = _resolve(
                        metrics_module,
                        item,
                        compiled_loss.losses[i] if compiled_loss and compiled_loss.losses else None,
                        y_true_flat[i],
                        y_pred_flat[i],
                    )
                    log_name = prefix + metric.name
                    if log_name in taken and weighted:
                        log_name = f"{prefix}weighted_{metric.name}"
                    if log_name in taken:
                        taken[log_name] += 1
                        log_name = f"{log_name}_{taken[log_name] - 1}"
                    else:
                        taken[log_name] = 1
                    self.metrics.append((i, metric, weighted, log_name))

    @property
    def metric_names(self) -> list:
        """The metrics' own names (without output prefixes), in compile order."""
        return [m.name for _, m, _, _ in self.metrics or []]

    def update(self, model, compiled_loss, y, y_pred, sample_weight=None):
        """Update every metric from a batch (``y_pred``: the model's outputs, tensors or arrays; not differentiated)."""
        if type(y_pred) is numpy.ndarray and type(y) is numpy.ndarray and sample_weight is None and self.metrics:
            # one output as a host array (the compiled step's): the metrics' lean update when they all have one
            key = (y.shape, y.dtype, y_pred.shape, y_pred.dtype)
            if key != self._lean[0]:
                self._lean = (key, self._lean_update(y, y_pred))
            if self._lean[1] is not None:
                self._lean[1](y, y_pred)
                return
        flat_pred = [t.detach() if isinstance(t, Tensor) else t for t in flatten(y_pred)]
        names = compiled_loss.names if compiled_loss and compiled_loss.names else _output_names(model, len(flat_pred))
        flat_true = _match_targets(y, flat_pred, names)
        if self.metrics is None:
            self.build(model, compiled_loss, flat_true, flat_pred)
            self._lean = (None, None)
        for i, metric, weighted, _ in self.metrics:
            if flat_true[i] is None:
                continue
            metric.update_state(flat_true[i], flat_pred[i], sample_weight=sample_weight if weighted else None)

    _lean = (None, None)  # (the shapes and dtypes of y and y_pred, the lean update for them or None)

    def _lean_update(self, y, y_pred):
        """``update(y, y_pred)`` for one output's host arrays of these shapes and dtypes, without sample weights,
        when every metric has a :meth:`~ember.metrics.MeanMetricWrapper.lean_update` (the same numbers with a
        few array calls); else None.
        """
        updates = []
        for i, metric, _, _ in self.metrics:
            lean = getattr(metric, "lean_update", None)
            update = lean(y, y_pred) if i == 0 and lean is not None else None
            if update is None:
                return None
            updates.append(update)
        if len(updates) == 1:
            return updates[0]

        def update_all(y, y_pred):
            for update in updates:
                update(y, y_pred)

        return update_all

    def reset(self):
        for _, metric, _, _ in self.metrics or []:
            metric.reset_state()

    def results(self) -> dict:
        return {name: _float(metric.result()) for _, metric, _, name in self.metrics or []}


def _metric_lists(spec, names):
    if isinstance(spec, dict):
        return [list(flatten(spec.get(n, []))) if spec.get(n) is not None else [] for n in names]
    if len(names) > 1 and isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], (list, tuple)):
        return [list(s) for s in spec]
    return [list(spec) if isinstance(spec, (list, tuple)) else [spec] for _ in names]


def _resolve(metrics_module, item, loss, y_true, y_pred):
    """A Metric object for ``item``, named as Keras's compile names it (a string names its metric).

    'accuracy'/'acc'/'crossentropy'/'ce' depend on the shapes, as in Keras; a
    plain function becomes a ``MeanMetricWrapper`` named after it.
    """
    if item is None:
        raise ValueError("compile: expected a metric (a name, a Metric or a function), received None")
    if isinstance(item, str) and item.lower() in ("accuracy", "acc"):
        return metrics_module.resolve_accuracy(loss, tuple(y_true.shape), tuple(y_pred.shape), name=item)
    if isinstance(item, str) and item.lower() not in ("crossentropy", "ce"):
        metric = metrics_module.get(item)
        if not isinstance(metric, metrics_module.Metric):
            metric = metrics_module.MeanMetricWrapper(metric)
        metric.name = item
        return metric
    if not isinstance(item, str):
        metric = metrics_module.get(item)
        if not isinstance(metric, metrics_module.Metric):
            metric = metrics_module.MeanMetricWrapper(metric, name=getattr(item, "__name__", None))
        return metric
    from ..losses.registry import binary_or_sparse_categorical

    is_binary, is_sparse = binary_or_sparse_categorical(tuple(y_true.shape), tuple(y_pred.shape))
    if is_binary:
        return metrics_module.BinaryCrossentropy(name=item)
    if is_sparse:
        return metrics_module.SparseCategoricalCrossentropy(name=item)
    return metrics_module.CategoricalCrossentropy(name=item)


def _float(value) -> float:
    if hasattr(value, "item"):
        return float(value.item())
    return float(numpy.asarray(value))
