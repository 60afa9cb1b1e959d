"""Probabilistic and hinge metrics: running means of the crossentropies, KL divergence, Poisson and hinge losses."""

from __future__ import annotations

from .. import losses
from .reduction import MeanMetricWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "Hinge",
    "KLDivergence",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
]


class _Simple(MeanMetricWrapper):
    """A running mean of one loss function with no options."""

    _loss = None

    def __init__(self, name=None, dtype=None):
        super().__init__(fn=type(self)._loss, name=name or self._default_name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class KLDivergence(_Simple):
    """The running mean of the Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``."""

    _loss = staticmethod(losses.kl_divergence)
    _default_name = "kl_divergence"


class Poisson(_Simple):
    """The running mean of the Poisson loss ``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""

    _loss = staticmethod(losses.poisson)
    _default_name = "poisson"


class Hinge(_Simple):
    """The running mean of the hinge loss."""

    _loss = staticmethod(losses.hinge)
    _default_name = "hinge"


class SquaredHinge(_Simple):
    """The running mean of the squared hinge loss."""

    _loss = staticmethod(losses.squared_hinge)
    _default_name = "squared_hinge"


class CategoricalHinge(_Simple):
    """The running mean of the categorical hinge loss."""

    _loss = staticmethod(losses.categorical_hinge)
    _default_name = "categorical_hinge"


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of the binary crossentropy.

    Args:
        name, dtype: as for :class:`~ember.metrics.Metric`.
        from_logits: ``y_pred`` holds logits.
        label_smoothing: in [0, 1], as in :class:`ember.losses.BinaryCrossentropy`.
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(
            losses.binary_crossentropy, name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the categorical crossentropy.

    Args:
        name, dtype: as for :class:`~ember.metrics.Metric`.
        from_logits: ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
        axis: the class axis.
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(
            losses.categorical_crossentropy,
            name,
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
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the sparse categorical crossentropy.

    Args:
        name, dtype: as for :class:`~ember.metrics.Metric`.
        from_logits: ``y_pred`` holds logits.
        ignore_class: a label whose entries get loss 0 (they still count in
            the mean unless a sample weight is given, as in Keras 3).
        axis: the class axis.
    """

    def __init__(
        self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None, axis=-1
    ):
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }
