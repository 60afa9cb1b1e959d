"""Hinge losses as classes: Hinge, SquaredHinge, CategoricalHinge (labels -1/1 or 0/1)."""

from __future__ import annotations

from . import functions as fns
from .base import Loss
from .wrapper import LossFunctionWrapper

__all__ = ["CategoricalHinge", "Hinge", "SquaredHinge"]


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))``; labels of 0/1 are mapped to -1/1 first."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(fns.hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class SquaredHinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0)**2)``; labels of 0/1 are mapped to -1/1 first."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(fns.squared_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class CategoricalHinge(LossFunctionWrapper):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` with one-hot ``y_true``."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(fns.categorical_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)
