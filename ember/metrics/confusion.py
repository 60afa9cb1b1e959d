"""Confusion-matrix metrics: TruePositives/FalsePositives/TrueNegatives/FalseNegatives, Precision, Recall, AUC."""

from __future__ import annotations

import numpy

from ..backend.config import epsilon
from ..backend.device import to_host
from ._arrays import divide_no_nan, to_array
from ._confusion import (
    NEG_INF,
    is_evenly_distributed_thresholds,
    parse_init_thresholds,
    update_confusion_matrix_variables,
)
from .base import Metric

__all__ = ["AUC", "FalseNegatives", "FalsePositives", "Precision", "Recall", "TrueNegatives", "TruePositives"]


class _ConditionCount(Metric):
    """The weighted count of one confusion-matrix cell, per threshold."""

    _key = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the batch's count. Shapes: y_true, y_pred (batch, ...); sample_weight (batch,) or broadcastable."""
        update_confusion_matrix_variables(
            {self._key: self.accumulator},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
        )

    def result(self):
        a = self.accumulator.data
        return self._value(a[0] if len(self.thresholds) == 1 else a)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted number of true positives (``y_pred > threshold`` and a positive label)."""

    _key = "tp"


class FalsePositives(_ConditionCount):
    """The weighted number of false positives."""

    _key = "fp"


class TrueNegatives(_ConditionCount):
    """The weighted number of true negatives."""

    _key = "tn"


class FalseNegatives(_ConditionCount):
    """The weighted number of false negatives."""

    _key = "fn"


class _PrecisionRecall(Metric):
    _other = "fp"
    _other_name = "false_positives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        setattr(self, self._other_name, self.add_variable(shape=(n,), name=self._other_name))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the batch's counts.

        Shapes: y_true, y_pred (batch, ...) or (batch, classes) with
        ``top_k``/``class_id``; sample_weight (batch,) or broadcastable.
        """
        update_confusion_matrix_variables(
            {"tp": self.true_positives, self._other: getattr(self, self._other_name)},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def result(self):
        xp = self._device.xp
        tp = self.true_positives.data
        r = divide_no_nan(xp, tp, tp + getattr(self, self._other_name).data)
        return self._value(r[0] if len(self.thresholds) == 1 else r)

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """Precision ``tp / (tp + fp)``: the share of predicted positives that are positive.

    Args:
        thresholds: a float or a list of floats in [0, 1]; a prediction is
            positive when above it (default 0.5; with ``top_k``, any value).
            With several thresholds the result has one value per threshold.
        top_k: only the ``k`` highest-scored classes of each sample count as predicted positive.
        class_id: compute the metric for this class (last axis) only.
        name, dtype: as for :class:`~ember.metrics.Metric`.
    """

    _other = "fp"
    _other_name = "false_positives"


class Recall(_PrecisionRecall):
    """Recall ``tp / (tp + fn)``: the share of positives predicted positive.

    Args:
        thresholds, top_k, class_id, name, dtype: as for :class:`Precision`.
    """

    _other = "fn"
    _other_name = "false_negatives"


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts in ``num_thresholds`` buckets (Keras's algorithm).

    Args:
        num_thresholds: how many thresholds split [0, 1] (default 200; > 1).
        curve: ``"ROC"`` (default), ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (trapezoids; for PR, the
            Davis-Goadrich interpolation), ``"majoring"`` or ``"minoring"``.
        name, dtype: as for :class:`~ember.metrics.Metric`.
        thresholds: explicit thresholds in [0, 1] (then ``num_thresholds`` is
            their number + 2: 0 - epsilon and 1 + epsilon are added).
        multi_label: one curve per label (last axis of ``y_pred``), averaged.
        num_labels: the number of labels with ``multi_label`` (else learnt at the first update).
        label_weights: per-label weights of the average (or of the counts without ``multi_label``).
        from_logits: ``y_pred`` holds logits (a sigmoid is applied).

    ``update_state(y_true, y_pred, sample_weight=None)``: y_true, y_pred of
    one shape (batch, ...) with labels 0/1 (any nonzero is positive).
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        if str(curve).lower() not in _CURVES:
            raise ValueError(f"AUC: invalid curve {curve!r}; expected one of ['ROC', 'PR', 'PRGAIN']")
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f"AUC: invalid summation_method {summation_method!r}; expected one of {list(_SUMMATIONS)}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            parse_init_thresholds(thresholds)
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(float(t) for t in thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds([0.0, *thresholds, 1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got {num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = numpy.array([0.0 - epsilon(), *thresholds, 1.0 + epsilon()])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None
        if label_weights is not None:
            self.label_weights = to_array(label_weights, self._device, self.dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("AUC: num_labels is needed only when multi_label is True")
            self._build(None)

    @property
    def thresholds(self) -> list:
        """The thresholds, including the 0 - epsilon and 1 + epsilon ends."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"AUC: y_pred must have rank 2 when multi_label=True, got shape {tuple(shape)}")
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=var_shape, name="true_positives")
        self.false_positives = self.add_variable(shape=var_shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=var_shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=var_shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the batch's counts per threshold. Shapes: y_true, y_pred (batch, ...); sample_weight (batch,)."""
        y_pred = to_array(y_pred, self._device, self.dtype)
        if not self._built:
            self._build(y_pred.shape)
        if self._from_logits:
            xp = self._device.xp
            y_pred = (1 / (1 + xp.exp(-y_pred))).astype(self.dtype, copy=False)
        update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )

    def _by_label(self, terms):
        xp = self._device.xp
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return by_label.mean()
        return divide_no_nan(xp, (by_label * self.label_weights).sum(), self.label_weights.sum())

    def interpolate_pr_auc(self):
        """PR-AUC with the Davis & Goadrich (2006) interpolation between buckets."""
        xp, n = self._device.xp, self.num_thresholds
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = divide_no_nan(xp, dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, divide_no_nan(xp, p[: n - 1], xp.maximum(p[1:], 0)), xp.ones_like(p[1:]))
        with numpy.errstate(divide="ignore", invalid="ignore"):
            log_ratio = xp.log(ratio)
        increment = divide_no_nan(xp, slope * (dtp + intercept * log_ratio), xp.maximum(tp[1:] + fn[1:], 0))
        return self._value(self._by_label(increment))

    def result(self):
        if not self._built:
            return self._value(0.0)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        xp, n = self._device.xp, self.num_thresholds
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        recall = divide_no_nan(xp, tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(xp, fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(xp, tp, tp + fp)
        else:
            scale = divide_no_nan(xp, tp + fn, tn + fp)
            recall_gain = 1.0 - scale * divide_no_nan(xp, fn, tp)
            precision_gain = 1.0 - scale * divide_no_nan(xp, fp, tp)
            recall_gain = xp.where(tp == 0, 0.0, recall_gain)
            precision_gain = xp.where(tp == 0, 1.0, precision_gain)
            x, y = xp.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = xp.minimum(y[: n - 1], y[1:])
        else:
            heights = xp.maximum(y[: n - 1], y[1:])
        return self._value(self._by_label((x[: n - 1] - x[1:]) * heights))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        lw = self.label_weights
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if lw is None else to_host(lw).tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config
