"""``Loss``: the base class of the loss objects (``ember.losses.Loss``, Keras 3's ``keras.losses.Loss``)."""

from __future__ import annotations

from ..backend.config import floatx
from ..engine.dtypes import resolve_dtype
from ..engine.tensor import Tensor
from ._naming import auto_name
from .reduction import as_tensor, reduce_weighted_values, standardize_reduction

__all__ = ["Loss"]


class Loss:
    """A loss: per-sample values from ``call``, then a weighted reduction to one number.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses
    (for example shape ``(batch,)``); ``__call__`` converts the inputs to
    ``dtype``, calls it, and reduces.

    Args:
        name: the loss's name (default: the class name in snake case).
        reduction: ``"sum_over_batch_size"`` (default) and ``"mean"`` divide
            the weighted sum by the number of elements, ``"sum"`` sums,
            ``"mean_with_sample_weight"`` divides by the sum of the sample
            weights, ``None``/``"none"`` return the weighted per-sample values.
        dtype: the computation dtype (default ``ember.backend.floatx()``).

    A mask attached to ``y_pred`` (``y_pred._keras_mask``) or to the values
    ``call`` returns leaves the masked entries out, as in Keras.

    Example:
        >>> class MeanSquaredError(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return ember.mean(ember.square(y_pred - y_true), axis=-1)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = str(resolve_dtype(dtype or floatx()))

    @property
    def dtype(self) -> str:
        """The computation dtype, as a string (``"float32"``)."""
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss.

        Args:
            y_true: targets, converted to ``dtype``.
            y_pred: predictions, converted to ``dtype`` (differentiable).
            sample_weight: None, a scalar, per-sample weights ``(batch,)`` or
                weights shaped like the per-sample losses.

        Returns:
            A scalar tensor (or the weighted per-sample losses when the
            reduction is None/"none"), differentiable w.r.t. ``y_pred``.
        """
        in_mask = getattr(y_pred, "_keras_mask", None) if isinstance(y_pred, Tensor) else None
        y_pred = as_tensor(y_pred, self.dtype)
        y_true = as_tensor(y_true, self.dtype, device=y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None) if isinstance(losses, Tensor) else None
        if in_mask is not None and out_mask is not None:
            a, b = as_tensor(in_mask, device=y_pred.device), as_tensor(out_mask, device=y_pred.device)
            mask = Tensor._wrap(a.data.astype(bool) & b.data.astype(bool))
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=self.dtype
        )

    def call(self, y_true, y_pred):
        """Per-sample losses for ``y_true``, ``y_pred`` (tensors of ``dtype``). Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__}.call: subclasses of Loss must implement call(y_true, y_pred)")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"
