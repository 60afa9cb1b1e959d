"""Intersection-over-union metrics: ``IoU``, ``BinaryIoU``, ``MeanIoU``, ``OneHotIoU``, ``OneHotMeanIoU``.

Each accumulates a (num_classes, num_classes) confusion matrix, rows the true
class and columns the predicted one, weighted by ``sample_weight``; class
``c``'s IoU is ``cm[c, c] / (row c + column c - cm[c, c])``. As in Keras, the
matrix is integer (int32 unless ``dtype`` says otherwise), so fractional
weights are truncated; labels outside ``[0, num_classes)`` and ``ignore_class``
are left out.
"""

from __future__ import annotations

import numpy

from ..backend.config import epsilon
from ._arrays import to_array
from .base import Metric

__all__ = ["BinaryIoU", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]


class _IoUBase(Metric):
    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: labels (any shape, flattened), or scores whose ``argmax(axis)`` is the label."""
        xp = self._device.xp
        t = to_array(y_true, self._device)
        p = to_array(y_pred, self._device)
        if not self.sparse_y_true:
            t = t.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            p = p.argmax(axis=self.axis)
        t = t.astype(self.dtype).reshape(-1)
        p = p.astype(self.dtype).reshape(-1)
        if sample_weight is None:
            w = xp.ones_like(t)
        else:
            w = xp.broadcast_to(to_array(sample_weight, self._device).astype(self.dtype).reshape(-1), t.shape)
        n = self.num_classes
        keep = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        t, p, w = t[keep], p[keep], w[keep]
        cm = xp.zeros(n * n, dtype=self.total_cm.data.dtype)
        xp.add.at(cm, t.astype(numpy.int64) * n + p.astype(numpy.int64), w)
        self.total_cm.data[...] += cm.reshape(n, n)

    def result(self):
        cm = self.total_cm.data
        xp = self._device.xp
        rows = cm.sum(axis=0).astype("float32")
        cols = cm.sum(axis=1).astype("float32")
        tp = xp.diag(cm).astype("float32")
        ids = xp.asarray(self.target_class_ids, dtype=numpy.int64)
        denominator, tp = (rows + cols - tp)[ids], tp[ids]
        valid = denominator > 1e-9
        iou = xp.where(valid, tp / (denominator + epsilon()), 0.0)
        return self._value_float(iou.sum() / (valid.sum() + epsilon()))

    def _value_float(self, value):
        from ..engine.tensor import Tensor

        return Tensor._wrap(self._device.xp.asarray(value, dtype="float32"))


class IoU(_IoUBase):
    """The mean IoU of the classes in ``target_class_ids``, as ``keras.metrics.IoU``.

    Args:
        num_classes: the number of classes (the confusion matrix's size).
        target_class_ids: the classes averaged in the result.
        ignore_class: a label left out of the matrix (e.g. a "void" class).
        sparse_y_true / sparse_y_pred: False for one-hot / score inputs (argmax over ``axis``).
        axis: the class axis of non-sparse inputs.
    """

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(num_classes, name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of two classes from scores: ``y_pred >= threshold`` is class 1, as ``keras.metrics.BinaryIoU``.

    Args:
        target_class_ids: ``(0,)``, ``(1,)`` or ``(0, 1)`` (the mean of both).
        threshold: the score at and above which a prediction is class 1.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = to_array(y_pred, self._device, "float32")
        return super().update_state(y_true, (p >= self.threshold).astype(self.dtype), sample_weight)

    def get_config(self) -> dict:
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes, as ``keras.metrics.MeanIoU``."""

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """:class:`IoU` of one-hot labels (and scores unless ``sparse_y_pred``), as ``keras.metrics.OneHotIoU``."""

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` of one-hot labels, as ``keras.metrics.OneHotMeanIoU``."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
