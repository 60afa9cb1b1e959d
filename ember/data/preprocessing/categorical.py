"""``to_categorical`` and ``normalize``: the array utilities Keras keeps in ``keras.utils``."""

from __future__ import annotations

import numpy as np

from ...backend.config import floatx

__all__ = ["to_categorical", "normalize"]


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels: shape ``x.shape + (num_classes,)``, floatx (float32).

    Args:
        x: integer labels in ``[0, num_classes)`` (floats equal to integers are accepted). A trailing axis of
            size 1 is dropped first, as Keras does: ``(n, 1)`` gives ``(n, num_classes)``.
        num_classes: the number of classes; default ``max(x) + 1``.

    A label outside ``[0, num_classes)`` (or a fractional one) raises ValueError naming it and its position.
    Keras 3 returns float64 for NumPy input; Ember returns its floatx, as Keras 2 did (float32).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "iubf":
        raise ValueError(f"to_categorical: expected integer class labels, got dtype {x.dtype}")
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = x.reshape(-1)
    if flat.dtype.kind == "f":
        frac = (flat != np.floor(flat)) | ~np.isfinite(flat)
        if frac.any():
            i = int(np.argmax(frac))
            raise ValueError(f"to_categorical: label {flat[i].item()!r} at index {_pos(i, shape)} is not an integer")
    labels = flat.astype(np.int64)
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from no labels; pass num_classes")
        num_classes = int(labels.max()) + 1
    num_classes = int(num_classes)
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"to_categorical: label {flat[i].item()!r} at index {_pos(i, shape)} is outside [0, {num_classes}) "
            f"for num_classes={num_classes}"
        )
    out = np.zeros((labels.size, num_classes), dtype=floatx())
    out[np.arange(labels.size), labels] = 1
    return out.reshape(shape + (num_classes,))


def _pos(i, shape):
    return i if len(shape) <= 1 else tuple(int(k) for k in np.unravel_index(i, shape))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1, so zero vectors stay zero).

    Float inputs keep their dtype; integer inputs give floatx. Same values as ``keras.utils.normalize``
    (whose NumPy path turns ``axis=0`` into -1; here ``axis`` means what it says).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "f":
        x = x.astype(floatx())
    if x.ndim == 0:
        raise ValueError("normalize: expected an array with at least one axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"normalize: axis {axis} is out of range for an array of shape {x.shape}")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
