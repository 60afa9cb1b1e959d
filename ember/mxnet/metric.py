"""``mx.metric``: MXNet's evaluation metrics (``update(labels, preds)``, ``get()``, ``reset()``).

Labels and predictions may be NDArrays, NumPy arrays or lists of them (one per output). Accumulation follows
MXNet 1.x: ``sum_metric`` and ``num_inst`` over all updates; ``get()`` returns ``(name, sum / num)``.
"""

from __future__ import annotations

import numpy as np


def _np(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)


def _pairs(labels, preds):
    if not isinstance(labels, (list, tuple)):
        labels = [labels]
    if not isinstance(preds, (list, tuple)):
        preds = [preds]
    if len(labels) != len(preds):
        raise ValueError(f"metric: {len(labels)} label arrays but {len(preds)} prediction arrays")
    return [(_np(a), _np(b)) for a, b in zip(labels, preds)]


class EvalMetric:
    """Base: ``update`` adds to ``sum_metric`` and ``num_inst``; ``get`` returns (name, value)."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = name
        self.reset()

    def reset(self):
        self.sum_metric, self.num_inst = 0.0, 0

    def get(self):
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, self.sum_metric / self.num_inst

    def get_name_value(self):
        return [self.get()]

    def update_dict(self, labels, preds):
        self.update(list(labels.values()), list(preds.values()))

    def __str__(self):
        return f"EvalMetric: {dict(self.get_name_value())}"


class Accuracy(EvalMetric):
    """Fraction of samples whose label equals the argmax over ``axis`` (or the prediction itself when it already
    has the label's shape)."""

    def __init__(self, axis=1, name="accuracy", **kwargs):
        self.axis = axis
        super().__init__(name, **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            if pred.shape != label.shape:
                pred = np.argmax(pred, axis=self.axis)
            pred, label = pred.astype(np.int64).ravel(), label.astype(np.int64).ravel()
            if pred.shape != label.shape:
                raise ValueError(f"Accuracy: {label.shape[0]} labels but {pred.shape[0]} predictions")
            self.sum_metric += float((pred == label).sum())
            self.num_inst += len(pred)


class TopKAccuracy(EvalMetric):
    """Fraction of samples whose label is among the ``top_k`` highest scores."""

    def __init__(self, top_k=1, name="top_k_accuracy", **kwargs):
        self.top_k = top_k
        super().__init__(f"{name}_{top_k}", **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            order = np.argsort(pred.astype(np.float32), axis=1)
            label = label.astype(np.int64).ravel()
            k = min(self.top_k, pred.shape[1])
            self.sum_metric += float(sum((order[:, -j - 1] == label).sum() for j in range(k)))
            self.num_inst += pred.shape[0]


class F1(EvalMetric):
    """Binary F1 of ``argmax(pred) == 1`` against labels in {0, 1}; ``average='macro'`` (default) averages
    the per-update F1 scores, ``'micro'`` pools the counts."""

    def __init__(self, name="f1", average="macro", **kwargs):
        self.average = average
        super().__init__(name, **kwargs)

    def reset(self):
        super().reset()
        self.tp = self.fp = self.fn = 0

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            p = np.argmax(pred, axis=1) if pred.ndim > 1 else (pred > 0.5)
            p, y = p.astype(np.int64).ravel(), label.astype(np.int64).ravel()
            tp = int(((p == 1) & (y == 1)).sum())
            fp = int(((p == 1) & (y == 0)).sum())
            fn = int(((p == 0) & (y == 1)).sum())
            self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
            if self.average == "macro":
                self.sum_metric += _f1(tp, fp, fn)
                self.num_inst += 1

    def get(self):
        if self.average == "micro":
            return self.name, _f1(self.tp, self.fp, self.fn) if (self.tp + self.fp + self.fn) else float("nan")
        return super().get()


def _f1(tp, fp, fn):
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


class _Regression(EvalMetric):
    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            if label.ndim == 1:
                label = label.reshape(label.shape[0], 1)
            if pred.ndim == 1:
                pred = pred.reshape(pred.shape[0], 1)
            self.sum_metric += self._score(label, pred)
            self.num_inst += 1


class MAE(_Regression):
    """Mean absolute error, averaged per update."""

    def __init__(self, name="mae", **kwargs):
        super().__init__(name, **kwargs)

    def _score(self, label, pred):
        return float(np.abs(label - pred).mean())


class MSE(_Regression):
    """Mean squared error, averaged per update."""

    def __init__(self, name="mse", **kwargs):
        super().__init__(name, **kwargs)

    def _score(self, label, pred):
        return float(((label - pred) ** 2).mean())


class RMSE(_Regression):
    """Root mean squared error of each update, averaged over updates."""

    def __init__(self, name="rmse", **kwargs):
        super().__init__(name, **kwargs)

    def _score(self, label, pred):
        return float(np.sqrt(((label - pred) ** 2).mean()))


class CrossEntropy(EvalMetric):
    """Mean of ``-log(p[label] + eps)`` over samples (``pred`` holds probabilities)."""

    def __init__(self, eps=1e-12, name="cross-entropy", **kwargs):
        self.eps = eps
        super().__init__(name, **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            label = label.ravel().astype(np.int64)
            prob = pred[np.arange(label.shape[0]), label]
            self.sum_metric += float((-np.log(prob + self.eps)).sum())
            self.num_inst += label.shape[0]


class Loss(EvalMetric):
    """Mean of the loss values given as ``preds``."""

    def __init__(self, name="loss", **kwargs):
        super().__init__(name, **kwargs)

    def update(self, _, preds):
        for pred in preds if isinstance(preds, (list, tuple)) else [preds]:
            p = _np(pred)
            self.sum_metric += float(p.sum())
            self.num_inst += p.size


class CompositeEvalMetric(EvalMetric):
    def __init__(self, metrics=None, name="composite", **kwargs):
        self.metrics = [create(m) for m in (metrics or [])]
        super().__init__(name, **kwargs)

    def add(self, metric):
        self.metrics.append(create(metric))

    def reset(self):
        for m in getattr(self, "metrics", []):
            m.reset()

    def update(self, labels, preds):
        for m in self.metrics:
            m.update(labels, preds)

    def get(self):
        names, values = zip(*(m.get() for m in self.metrics))
        return list(names), list(values)


_BY_NAME = {
    "acc": Accuracy,
    "accuracy": Accuracy,
    "top_k_accuracy": TopKAccuracy,
    "f1": F1,
    "mae": MAE,
    "mse": MSE,
    "rmse": RMSE,
    "ce": CrossEntropy,
    "cross-entropy": CrossEntropy,
    "loss": Loss,
}


def create(metric, *args, **kwargs) -> EvalMetric:
    """A metric by name (``'acc'``, ``'mse'``, ...), from a list (a composite) or itself."""
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, (list, tuple)):
        return CompositeEvalMetric(list(metric))
    if isinstance(metric, str) and metric.lower() in _BY_NAME:
        return _BY_NAME[metric.lower()](*args, **kwargs)
    raise ValueError(f"metric.create: unknown metric {metric!r} (expected one of {sorted(_BY_NAME)})")
