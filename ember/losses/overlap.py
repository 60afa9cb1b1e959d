"""Overlap losses for segmentation: ``Dice`` and ``Tversky`` (1 - the overlap score)."""

from __future__ import annotations

from .. import ops
from ..backend.config import epsilon
from .base import Loss
from .reduction import as_tensor
from .wrapper import LossFunctionWrapper

__all__ = ["Dice", "Tversky", "dice", "tversky"]


def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis`` (None: everything)."""
    y_pred = as_tensor(y_pred)
    y_true = ops.cast(as_tensor(y_true), y_pred.dtype)
    axis = _axes(axis)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    return 1.0 - 2.0 * intersection / (ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + epsilon())


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha * FP + beta * FN + epsilon)`` with soft counts, as Keras writes them.

    (Keras counts ``sum((1 - y_pred) * y_true)`` as its ``fp`` and ``sum(y_pred * (1 - y_true))``
    as its ``fn``; this follows it, so ``alpha`` weighs the missed positives.)
    """
    y_pred = as_tensor(y_pred)
    y_true = ops.cast(as_tensor(y_true), y_pred.dtype)
    axis = _axes(axis)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1.0 - y_pred) * y_true, axis=axis)
    fn = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + fp * alpha + fn * beta + epsilon())


class Dice(LossFunctionWrapper):
    """The Dice loss, as ``keras.losses.Dice``.

    Args:
        axis: the axes summed over (None: all, one value for the batch).
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """The Tversky loss (Dice with ``alpha = beta = 0.5``), as ``keras.losses.Tversky``."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "alpha": self.alpha, "beta": self.beta, "axis": self.axis}
