"""``FBetaScore`` and ``F1Score``: the F-score of multi-class / multi-label predictions, per class or averaged."""

from __future__ import annotations

from ..backend.config import epsilon
from ._arrays import to_array
from .base import Metric

__all__ = ["F1Score", "FBetaScore"]


class FBetaScore(Metric):
    """``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``, as ``keras.metrics.FBetaScore``.

    Predictions become 0/1 by ``threshold`` (``y_pred > threshold``), or, with
    ``threshold=None``, 1 at each row's maximum (when non-zero). True/false
    positive and false negative counts accumulate per class (or in total for
    ``average="micro"``), weighted by ``sample_weight`` (batch,).

    ``update_state(y_true, y_pred, sample_weight=None)``: y_true, y_pred (batch, classes).
    ``result()``: (classes,) for ``average=None``, else a scalar ("micro", "macro" or
    "weighted" by each class's weighted count of true labels).

    Args:
        average: None, "micro", "macro" or "weighted".
        beta: a positive float, the weight of recall.
        threshold: None or a float in (0, 1].
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of type "
                f"'{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    f"Invalid `threshold` argument value. It should be a Python float. Received: "
                    f"threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: "
                    f"threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={pred_shape} and y_true.shape={true_shape}."
            )
        shape = () if self.average == "micro" else (pred_shape[-1],)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = to_array(y_true, self._device, self.dtype)
        p = to_array(y_pred, self._device, self.dtype)
        if not self._built:
            self._build(t.shape, p.shape)
        xp = self._device.xp
        if self.threshold is None:
            p = (p >= p.max(axis=-1, keepdims=True)) & (xp.abs(p) > 1e-9)
        else:
            p = p > self.threshold
        p = p.astype(self.dtype)
        w = None if sample_weight is None else to_array(sample_weight, self._device, self.dtype)

        def weighted_sum(v):
            if w is not None:
                v = v * xp.expand_dims(w, 1)
            return v.sum(axis=self.axis)

        self.true_positives.data[...] += weighted_sum(p * t)
        self.false_positives.data[...] += weighted_sum(p * (1 - t))
        self.false_negatives.data[...] += weighted_sum((1 - p) * t)
        self.intermediate_weights.data[...] += weighted_sum(t)

    def result(self):
        if not self._built:
            raise ValueError(f"{type(self).__name__} '{self.name}': result() before any update_state()")
        eps = epsilon()
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta**2
        score = (1 + b2) * (precision * recall / (b2 * precision + recall + eps))
        if self.average == "weighted":
            weights = self.intermediate_weights.data
            score = (score * (weights / (weights.sum() + eps))).sum()
        elif self.average is not None:
            score = score.mean()
        return self._value(score)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall: :class:`FBetaScore` with ``beta=1``, as ``keras.metrics.F1Score``."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
