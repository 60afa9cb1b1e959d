"""``Circle`` loss (Sun et al., 2020): pairwise similarity learning for embeddings."""

from __future__ import annotations

from .. import ops
from ..backend.device import to_device
from ..engine.tensor import Tensor
from .base import Loss
from .reduction import as_tensor
from .wrapper import LossFunctionWrapper

__all__ = ["Circle", "circle"]

_NEG = -1e9  # stands for -inf in the masked log-sum-exps (exp underflows to 0 either way)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """One loss per embedding: ``softplus(lse(positive terms) + lse(negative terms))``.

    Args:
        y_true: integer labels (batch,).
        y_pred: L2-normalised embeddings (batch, dim).
        ref_labels / ref_embeddings: what each embedding is compared with (default: the batch itself).
        remove_diagonal: leave each embedding's pair with itself out of the positives.
        gamma: the scale; margin: the relaxation of the decision boundary.

    The result carries the mask of its positive entries (``_keras_mask``), so a
    Loss averages over those, as Keras does.
    """
    y_pred = as_tensor(y_pred)
    labels = to_device(as_tensor(y_true).data, y_pred.device).astype("int64").reshape(-1, 1)
    ref = y_pred if ref_embeddings is None else as_tensor(ref_embeddings)
    if ref_labels is not None:
        ref_labels = to_device(as_tensor(ref_labels).data, y_pred.device).astype("int64").reshape(-1, 1)
    ref_lab = labels if ref_labels is None else ref_labels
    distances = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(ref)), 0.0)
    positive = labels == ref_lab.T
    negative = ~positive
    if remove_diagonal:
        positive &= ~y_pred.device.xp.eye(labels.size, ref_lab.size, dtype=bool)
    pos_f, neg_f = positive.astype(y_pred.dtype), negative.astype(y_pred.dtype)
    pos_weights = ops.maximum((margin + distances) * pos_f, 0.0)
    neg_weights = ops.maximum((1 + margin - distances) * neg_f, 0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * ((1 - margin) - distances)
    p_loss = ops.logsumexp(ops.where(positive, pos_terms, _NEG), axis=1)
    n_loss = ops.logsumexp(ops.where(negative, neg_terms, _NEG), axis=1)
    loss = ops.softplus(p_loss + n_loss)
    loss._keras_mask = Tensor._wrap(loss.data > 0)
    return loss


class Circle(LossFunctionWrapper):
    """The Circle loss, as ``keras.losses.Circle``: ``y_true`` labels (batch,), ``y_pred`` embeddings (batch, dim)."""

    def __init__(
        self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle", dtype=None
    ):
        super().__init__(
            circle,
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self) -> dict:
        return {
            **Loss.get_config(self),
            "gamma": self.gamma,
            "margin": self.margin,
            "remove_diagonal": self.remove_diagonal,
        }
