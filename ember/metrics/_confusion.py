"""Accumulating confusion-matrix counts per threshold (true/false positives/negatives), as Keras 3 does.

``update_confusion_matrix_variables`` adds one batch's weighted counts to the
state variables given in a dict keyed ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"``.
Evenly spaced thresholds use Keras's bucketed algorithm (each prediction falls
into one bucket, a reversed cumulative sum gives the counts, O(n + T));
other thresholds compare every prediction with every threshold (O(n T)).
"""

from __future__ import annotations

import numpy

from ..backend.config import epsilon
from ._arrays import align_ranks, to_array

NEG_INF = -1e10
KEYS = ("tp", "fp", "tn", "fn")


def parse_init_thresholds(thresholds, default_threshold=0.5) -> list:
    """The thresholds as a list, checked to lie in [0, 1]."""
    if thresholds is not None:
        values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
        bad = [t for t in values if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1], got {bad}")
        return values
    return [default_threshold]


def is_evenly_distributed_thresholds(thresholds) -> bool:
    """True when the thresholds are i / (n - 1) for i = 0..n-1 (to within epsilon), n >= 3."""
    n = len(thresholds)
    if n < 3:
        return False
    even = numpy.arange(n, dtype=numpy.float32) / (n - 1)
    return bool(numpy.allclose(numpy.asarray(thresholds, dtype=numpy.float64), even, atol=epsilon()))


def filter_top_k(xp, x, k):
    """``x`` with all but the ``k`` largest entries of each row (last axis) set to -1e10."""
    ranks = xp.argsort(xp.argsort(-x, axis=-1), axis=-1)
    keep = ranks < k
    return xp.where(keep, x, xp.asarray(NEG_INF, dtype=x.dtype)).astype(x.dtype, copy=False)


def update_confusion_matrix_variables(
    variables,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
):
    """Add a batch's counts to ``variables`` (a dict from "tp"/"fp"/"tn"/"fn" to Variables of shape (T,) or (T, L)).

    Args:
        y_true: labels, any nonzero value counts as positive.
        y_pred: scores, same shape as ``y_true`` (a trailing size-1 axis is aligned).
        thresholds: T thresholds; a prediction is positive when ``y_pred > threshold``.
        top_k: only the k highest scores of each row may count as positive.
        class_id: count only this class (last axis).
        sample_weight: weights broadcastable to ``y_pred``'s shape per sample.
        multi_label: keep one column of counts per label (last axis of ``y_pred``).
        label_weights: per-label weights (only without ``multi_label``).
        thresholds_distributed_evenly: use the bucketed algorithm.
    """
    if multi_label and label_weights is not None:
        raise ValueError("label_weights with multi_label=True must be applied outside the confusion-matrix update")
    bad = [k for k in variables if k not in KEYS]
    if bad or not variables:
        raise ValueError(f"expected confusion-matrix variables keyed by {KEYS}, got {list(variables)}")
    first = next(iter(variables.values()))
    device, dtype = first.device, first.dtype
    xp = device.xp
    y_true = to_array(y_true, device, dtype)
    y_pred = to_array(y_pred, device, dtype)
    with_eps = thresholds_distributed_evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    thr = xp.asarray(numpy.asarray(thresholds, dtype=numpy.float64)).astype(dtype)
    y_pred, y_true = align_ranks(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = to_array(sample_weight, device, dtype)[..., None]
        _, sample_weight = align_ranks(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(xp, y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                f"When class_id is given, y_pred must have shape (num_samples, num_classes), got {y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if y_true.shape != y_pred.shape:
        try:
            y_true = xp.broadcast_to(y_true, y_pred.shape)
        except ValueError as err:
            raise ValueError(f"y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}") from err
    weights = None
    if sample_weight is not None:
        weights = xp.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        lw = xp.broadcast_to(xp.asarray(label_weights, dtype=dtype)[None], y_pred.shape)
        weights = lw if weights is None else weights * lw
    positive = y_true != 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"multi_label needs y_pred of rank 2 (samples, labels), got shape {y_pred.shape}")
    else:
        y_pred, positive = y_pred.reshape(-1), positive.reshape(-1)
        weights = weights.reshape(-1) if weights is not None else None
    w = weights if weights is not None else xp.ones(y_pred.shape, dtype=dtype)
    true_w = positive.astype(dtype) * w
    false_w = (~positive).astype(dtype) * w
    if thresholds_distributed_evenly:
        tp, fp = _bucketed(xp, y_pred, true_w, false_w, len(thresholds), with_eps, dtype)
    else:
        tp, fp = _compared(xp, y_pred, true_w, false_w, thr)
    if "tp" in variables:
        variables["tp"].data += tp.astype(dtype)
    if "fp" in variables:
        variables["fp"].data += fp.astype(dtype)
    if "tn" in variables:
        variables["tn"].data += (false_w.sum(axis=0) - fp).astype(dtype)
    if "fn" in variables:
        variables["fn"].data += (true_w.sum(axis=0) - tp).astype(dtype)


def _bucketed(xp, y_pred, true_w, false_w, n, with_eps, dtype):
    """Counts for thresholds i / (n - 1): bucket ceil(p (n - 1)) - 1, then a reversed cumulative sum.

    Shapes: (P,) -> (n,), or (P, L) -> (n, L) for multi-label.
    """
    p = xp.clip(y_pred, 0.0, 1.0).astype(dtype, copy=False)
    bucket = xp.ceil(p * xp.asarray(n - 1, dtype=dtype)) - 1
    if with_eps:
        bucket = xp.maximum(bucket, 0)
    bucket = bucket.astype(xp.int64)
    keep = (bucket >= 0) & (bucket < n)
    if p.ndim == 2:
        labels = p.shape[1]
        idx = (xp.arange(labels)[None, :] * n + bucket)[keep]
        size = n * labels

        def sums(w):
            return xp.bincount(idx, weights=w[keep], minlength=size).reshape(labels, n).T

    else:
        idx = bucket[keep]

        def sums(w):
            return xp.bincount(idx, weights=w[keep], minlength=n)

    def rev_cumsum(b):
        return xp.flip(xp.cumsum(xp.flip(b, axis=0), axis=0), axis=0)

    return rev_cumsum(sums(true_w)), rev_cumsum(sums(false_w))


def _compared(xp, y_pred, true_w, false_w, thr):
    """Counts for arbitrary thresholds: positive when p > threshold. Shapes: (P,) -> (T,), (P, L) -> (T, L)."""
    above = (y_pred[None] > thr.reshape((-1,) + (1,) * y_pred.ndim)).astype(true_w.dtype)
    if y_pred.ndim == 2:
        return xp.einsum("tnl,nl->tl", above, true_w), xp.einsum("tnl,nl->tl", above, false_w)
    return above @ true_w, above @ false_w
