"""``R2Score``: the coefficient of determination over a stream of batches, per output or aggregated."""

from __future__ import annotations

import warnings

import numpy

from ._arrays import align_ranks, to_array
from .base import Metric

__all__ = ["R2Score"]


class R2Score(Metric):
    """``1 - sum(w * (y - y_hat)**2) / sum(w * (y - mean_w(y))**2)`` per output, as ``keras.metrics.R2Score``.

    ``update_state(y_true, y_pred, sample_weight=None)``: (batch, outputs) arrays; weights
    (batch,) or (batch, outputs). ``result()``: a scalar (``"uniform_average"``, or
    ``"variance_weighted_average"``), or (outputs,) for ``class_aggregation=None``.
    ``num_regressors > 0`` gives the adjusted R2 ``1 - (1 - r2) * (n - 1) / (n - p - 1)``
    (``n`` counts every element seen).
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        allowed = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in allowed:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {allowed}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                f"num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={pred_shape} and y_true.shape={true_shape}."
            )
        n = pred_shape[-1]
        self.squared_sum = self.add_variable((n,), name="squared_sum")
        self.sum = self.add_variable((n,), name="sum")
        self.total_mse = self.add_variable((n,), name="residual")
        self.count = self.add_variable((n,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = to_array(y_true, self._device, self.dtype)
        p = to_array(y_pred, self._device, self.dtype)
        t, p = align_ranks(t, p)
        if not self._built:
            self._build(t.shape, p.shape)
        xp = self._device.xp
        w = xp.ones((), self.dtype) if sample_weight is None else to_array(sample_weight, self._device, self.dtype)
        if w.ndim == 1:
            w = w[:, None]
        w = xp.broadcast_to(w, t.shape)
        wt = t * w
        self.sum.data[...] += wt.sum(axis=0)
        self.squared_sum.data[...] += (t * wt).sum(axis=0)
        self.total_mse.data[...] += ((t - p) ** 2 * w).sum(axis=0)
        self.count.data[...] += w.sum(axis=0)
        self.num_samples.data[...] += t.size

    def result(self):
        if not self._built:
            raise ValueError(f"R2Score '{self.name}': result() before any update_state()")
        xp = self._device.xp
        with numpy.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is nan, as Keras's result
            mean = self.sum.data / self.count.data
            total = self.squared_sum.data - self.sum.data * mean
            raw = 1 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self.num_samples.data.item()), float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling back to standard R2 "
                    "score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return self._value(score)

    def reset_state(self):
        for v in self.variables:
            v.data[...] = 0

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
