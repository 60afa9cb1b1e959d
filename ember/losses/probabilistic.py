"""Probabilistic losses as classes: the crossentropies, KLDivergence and Poisson."""

from __future__ import annotations

from . import functions as fns
from .base import Loss
from .wrapper import LossFunctionWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "SparseCategoricalCrossentropy",
]


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between 0/1 (or soft) targets and predicted probabilities, averaged over ``axis``.

    Args:
        from_logits: ``y_pred`` holds logits (a sigmoid is fused in, stable).
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + s / 2``.
        axis: the axis averaged per sample (default -1).
        reduction, name, dtype: as for :class:`Loss`.

    Shapes: ``y_true`` and ``y_pred`` ``(batch, ..., d)`` (a rank difference of a
    trailing 1 is aligned) -> per-sample ``(batch, ...)``.
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            fns.binary_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot (or soft) targets and predicted class probabilities.

    Args:
        from_logits: ``y_pred`` holds logits (a softmax is fused in, stable).
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).
        reduction, name, dtype: as for :class:`Loss`.

    Shapes: ``y_true``, ``y_pred`` ``(batch, ..., classes)`` -> ``(batch, ...)``.
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            fns.categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and predicted class probabilities (or logits).

    Args:
        from_logits: ``y_pred`` holds logits.
        ignore_class: a label to leave out: its entries get no loss, and the
            average runs over the other entries only.
        reduction: as for :class:`Loss`.
        axis: the class axis of ``y_pred`` (default -1).
        name, dtype: as for :class:`Loss`.

    Shapes: ``y_true`` ``(batch, ...)`` or ``(batch, ..., 1)``, ``y_pred``
    ``(batch, ..., classes)`` -> ``(batch, ...)``.
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            fns.sparse_categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        # Keras 3 records no axis here; Ember does, so a round trip keeps it.
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``, both clipped to [epsilon, 1]."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(fns.kl_divergence, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class Poisson(LossFunctionWrapper):
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + epsilon))``."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(fns.poisson, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)
