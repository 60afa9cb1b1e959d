"""``CTC``: the connectionist temporal classification loss for unaligned sequence labels."""

from __future__ import annotations

import numpy

from .. import ops
from ..backend.device import to_host
from .base import Loss
from .reduction import as_tensor
from .wrapper import LossFunctionWrapper

__all__ = ["CTC", "ctc"]


def ctc(y_true, y_pred):
    """CTC loss per sample.

    Args:
        y_true: integer labels (batch, max_label_length); 0 is the blank and pads the end.
        y_pred: logits (batch, time, classes) (not softmax-normalised).
    """
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in integer format. "
            f"Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, num_classes)`. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    batch, time = y_pred.shape[0], y_pred.shape[1]
    labels = to_host(y_true.data)  # the label bookkeeping of ctc_loss is on the host
    label_length = (labels != 0).sum(axis=-1).astype("int32")
    input_length = numpy.full((batch,), time, dtype="int32")
    return ops.ctc_loss(ops.cast(y_true, "int32"), y_pred, label_length, input_length, mask_index=0)


class CTC(LossFunctionWrapper):
    """The CTC loss, as ``keras.losses.CTC``."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def get_config(self) -> dict:
        return Loss.get_config(self)
