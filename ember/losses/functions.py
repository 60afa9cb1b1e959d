"""The per-sample loss functions under their Keras names (the math lives in :mod:`ember.ops.loss`).

Each takes ``(y_true, y_pred, ...)`` and returns one loss per sample (the
last axis, or ``axis``, reduced away). Only
:func:`sparse_categorical_crossentropy` adds something to the op: with
``ignore_class`` it attaches the mask of the kept entries to its result
(``_keras_mask``), so a Loss averages over those entries only, as Keras does.
"""

from __future__ import annotations

from .. import ops
from ..ops.loss import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
)
from .reduction import as_tensor

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels and probabilities (or logits), per sample.

    Args:
        y_true: integer class indices shaped like ``y_pred`` without ``axis``
            (a size-1 ``axis`` is accepted).
        y_pred: probabilities, or logits when ``from_logits``.
        from_logits: treat ``y_pred`` as logits.
        ignore_class: a label whose entries get loss 0; the result then
            carries the mask of the other entries (``_keras_mask``).
        axis: the class axis of ``y_pred``.

    Returns:
        The loss, shaped like the labels (without a size-1 class axis).
    """
    res = ops.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=from_logits, ignore_class=ignore_class, axis=axis
    )
    if ignore_class is not None:
        labels = as_tensor(y_true).detach().data
        valid = labels != ignore_class
        res._keras_mask = as_tensor(valid.reshape(res.shape), device=res.device)
    return res
