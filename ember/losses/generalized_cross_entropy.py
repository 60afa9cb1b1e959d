"""``CategoricalGeneralizedCrossEntropy`` (Zhang & Sabuncu, 2018): a crossentropy robust to noisy labels."""

from __future__ import annotations

from .. import ops
from ..backend.device import to_device
from .base import Loss
from .reduction import as_tensor
from .wrapper import LossFunctionWrapper

__all__ = ["CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy"]


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """``(1 - p**q) / q`` per sample, ``p`` the probability of the integer label ``y_true``."""
    y_pred = as_tensor(y_pred)
    labels = to_device(as_tensor(y_true).data, y_pred.device).astype("int64")
    one_hot = y_pred.device.xp.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels]
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - ops.power(p, q)) / q


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """The generalized crossentropy, as ``keras.losses.CategoricalGeneralizedCrossEntropy``.

    Args:
        q: in (0, 1); near 0 it is the crossentropy, at 1 the mean absolute error.
    """

    def __init__(
        self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy", dtype=None
    ):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q)
        self.q = q

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "q": self.q}
