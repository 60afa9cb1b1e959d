"""One rate at the best threshold given another: ``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``,
``PrecisionAtRecall``, ``RecallAtPrecision``.

Each counts true/false positives/negatives at ``num_thresholds`` evenly spaced
thresholds in [0, 1] (a prediction is positive when ``y_pred > threshold``) and
returns the largest value of one rate over the thresholds where the other
reaches the target (0 when none does).
"""

from __future__ import annotations

from ._confusion import update_confusion_matrix_variables
from .base import Metric

__all__ = ["PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity"]


def _ratio(xp, a, b):
    total = a + b
    return xp.where(total == 0, 0.0, a / xp.where(total == 0, 1.0, total))


class _AtThreshold(Metric):
    _target_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(
                f"Argument `{self._target_name}` must be in the range [0, 1]. Received: {self._target_name}={value}"
            )
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        super().__init__(name=name, dtype=dtype)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0, *inner, 1.0], True
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: labels (nonzero = positive) and scores of the same shape; optional per-sample weights."""
        update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._evenly,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def _rates(self):
        xp = self._device.xp
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        return xp, {
            "sensitivity": _ratio(xp, tp, fn),
            "specificity": _ratio(xp, tn, fp),
            "precision": _ratio(xp, tp, fp),
        }

    def _best(self, constrained, dependent):
        xp, rates = self._rates()
        feasible = rates[constrained] >= self.value
        return self._value(xp.max(xp.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._target_name: self.value,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SensitivityAtSpecificity(_AtThreshold):
    """The best sensitivity (recall) where the specificity is at least ``specificity``."""

    _target_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity

    def result(self):
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_AtThreshold):
    """The best specificity where the sensitivity (recall) is at least ``sensitivity``."""

    _target_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity

    def result(self):
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_AtThreshold):
    """The best precision where the recall is at least ``recall``."""

    _target_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall

    def result(self):
        return self._best("sensitivity", "precision")


class RecallAtPrecision(_AtThreshold):
    """The best recall where the precision is at least ``precision``."""

    _target_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision

    def result(self):
        return self._best("precision", "sensitivity")
