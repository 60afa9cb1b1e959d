"""Accuracy metrics: the per-sample functions (1.0 for a hit, 0.0 for a miss) and their running means.

The functions take tensors or arrays and return a float tensor (``floatx``) of
per-sample matches; they never record a graph.
"""

from __future__ import annotations

import math

import numpy

from ..backend.config import floatx
from ..engine.tensor import Tensor
from ._arrays import align_ranks, to_array, xp_of
from .reduction import MeanMetricWrapper, register_hit_counter

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


def _device(*xs):
    for x in xs:
        if isinstance(x, Tensor):
            return x.device
    return None


def _pred(y_pred, device):
    p = to_array(y_pred, device)
    if p.dtype.kind not in "fc":
        p = p.astype(floatx())
    return p


def _out(matches) -> Tensor:
    return Tensor._wrap(matches.astype(floatx()))


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` (after rank alignment), else 0.0."""
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device)
    t = to_array(y_true, device, p.dtype)
    t, p = align_ranks(t, p)
    return _out(t == p)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold)`` equals ``y_true``, else 0.0. Shapes: (batch, ..., 1) or (batch, ...)."""
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device)
    t = to_array(y_true, device)
    t, p = align_ranks(t, p)
    return _out(t == (p > threshold).astype(t.dtype))


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of one-hot ``y_true`` equals the arg-max of ``y_pred`` (last axis), else 0.0."""
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device)
    t = to_array(y_true, device).argmax(axis=-1).astype(p.dtype)
    org_shape = t.shape
    reshape = t.ndim == p.ndim
    if reshape:
        t = t.squeeze(-1)
    matches = t == p.argmax(axis=-1).astype(t.dtype)
    return _out(matches.reshape(org_shape) if reshape else matches)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label ``y_true`` equals the arg-max of ``y_pred`` (last axis), else 0.0.

    Shapes: ``y_true`` (batch, ...) or (batch, ..., 1); ``y_pred`` (batch, ..., classes).
    """
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device)
    t = to_array(y_true, device, p.dtype)
    org_shape = t.shape
    reshape = t.ndim == p.ndim and t.shape[-1] == 1
    if reshape:
        t = t.squeeze(-1)
    matches = t == p.argmax(axis=-1).astype(t.dtype)
    if reshape:
        matches = matches.reshape(org_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return _out(matches)


def _in_top_k(xp, targets, predictions, k):
    """Whether the target's score is at least the k-th largest score of its row. Shapes: (n,), (n, classes)."""
    n_classes = predictions.shape[-1]
    if k < 1:
        raise ValueError(f"top-k accuracy: expected k >= 1, got k={k}")
    targets = targets.astype("int64")
    if targets.size and (targets.min().item() < 0 or targets.max().item() >= n_classes):
        raise ValueError(f"top-k accuracy: labels must be in [0, {n_classes}), got values outside it")
    target_scores = xp.take_along_axis(predictions, targets[:, None], axis=-1)[:, 0]
    kk = min(k, n_classes)
    kth = xp.partition(predictions, n_classes - kk, axis=-1)[:, n_classes - kk]
    return target_scores >= kth


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class of one-hot ``y_true`` is among the ``k`` highest scores of ``y_pred``, else 0.0."""
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device)
    t = to_array(y_true, device, p.dtype).argmax(axis=-1)
    org_shape = t.shape
    if p.ndim > 2:
        p = p.reshape(-1, p.shape[-1])
    if t.ndim > 1:
        t = t.reshape(-1)
    matches = _in_top_k(xp_of(p), t, p, k)
    return _out(matches.reshape(org_shape))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` highest scores of ``y_pred``, else 0.0.

    With ``from_sorted_ids``, ``y_pred`` holds class ids sorted by score and
    the first ``k`` of them are compared with the label.
    """
    device = _device(y_pred, y_true)
    p = _pred(y_pred, device) if not from_sorted_ids else to_array(y_pred, device)
    t = to_array(y_true, device, p.dtype if from_sorted_ids else "int32")
    org_shape = t.shape
    if p.ndim > 2:
        p = p.reshape(-1, p.shape[-1])
    if t.ndim > 1:
        t = t.reshape(-1)
    if from_sorted_ids:
        matches = (t[:, None] == p[:, :k]).any(axis=1)
    else:
        matches = _in_top_k(xp_of(p), t, p, k)
    return _out(matches.reshape(org_shape))


# ---- lean hit counters (MeanMetricWrapper.lean_update): one comparison and one count per batch ----------------
# Each builder checks, from the shapes and dtypes alone, that its function gives one 0/1 value per sample
# there, and returns hits(t, p) with the function's comparison on the same values (equality of floats with the
# cast the function makes: labels and arg-maxes are small integers, exact in either dtype).


def _floating(dtype) -> bool:
    return numpy.dtype(dtype).kind == "f"


def _binary_hits(kwargs, t_shape, t_dtype, p_shape, p_dtype):
    threshold = kwargs.get("threshold", 0.5)
    if not _floating(p_dtype) or numpy.dtype(t_dtype).kind not in "biuf":
        return None
    t_like, p_like = align_ranks(numpy.empty(t_shape, t_dtype), numpy.empty(p_shape, p_dtype))
    ts, ps = t_like.shape, p_like.shape
    try:
        out = numpy.broadcast_shapes(ts, ps)
    except ValueError:
        return None
    if not out or out[0] != p_shape[0] or math.prod(out[1:]) != 1:
        return None  # not one value per sample
    count = numpy.count_nonzero
    # (p > threshold) compared with t: bools promote to t's dtype as binary_accuracy's astype(t.dtype) does
    if ts == t_shape and ps == p_shape:
        return lambda t, p: count(t == (p > threshold))
    return lambda t, p: count(t.reshape(ts) == (p.reshape(ps) > threshold))


def _categorical_hits(kwargs, t_shape, t_dtype, p_shape, p_dtype):
    if not _floating(p_dtype) or len(p_shape) != 2 or t_shape != p_shape or p_shape[-1] >= 2**24:
        return None
    count = numpy.count_nonzero
    return lambda t, p: count(t.argmax(axis=-1) == p.argmax(axis=-1))


def _sparse_categorical_hits(kwargs, t_shape, t_dtype, p_shape, p_dtype):
    if not _floating(p_dtype) or len(p_shape) != 2 or p_shape[-1] >= 2**24:
        return None
    n = p_shape[0]
    if t_shape not in ((n,), (n, 1)) or numpy.dtype(t_dtype).kind not in "biuf":
        return None
    count = numpy.count_nonzero
    if numpy.dtype(t_dtype) == numpy.dtype(p_dtype):
        return lambda t, p: count(t.reshape(n) == p.argmax(axis=-1))
    # the labels in y_pred's dtype first, as sparse_categorical_accuracy casts them
    return lambda t, p: count(t.reshape(n).astype(p_dtype) == p.argmax(axis=-1))


register_hit_counter(binary_accuracy, _binary_hits)
register_hit_counter(categorical_accuracy, _categorical_hits)
register_hit_counter(sparse_categorical_accuracy, _sparse_categorical_hits)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (``accuracy`` averaged over all samples)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels.

    Args:
        name, dtype: as for :class:`~ember.metrics.Metric`.
        threshold: the probability above which a prediction counts as 1 (default 0.5).
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches the arg-max of one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest-scored classes.

    Args:
        k: how many top classes count (default 5).
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest-scored classes.

    Args:
        k: how many top classes count (default 5).
        from_sorted_ids: ``y_pred`` holds class ids sorted by score.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
