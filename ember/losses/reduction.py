"""How a Loss turns per-sample values into one number: Keras 3's reductions, sample weights and masks.

Shapes: ``values`` is what ``Loss.call`` returns (usually ``(batch,)`` or
``(batch, d1, ...)``); ``sample_weight`` is a scalar or an array whose rank is
that of ``values`` or one more or less with a trailing axis of size 1 (it is
squeezed or expanded to match, then broadcast); ``mask`` is a boolean array
shaped like ``values``. The result is a scalar tensor, or ``values`` unreduced
for ``reduction=None``/``"none"``.
"""

from __future__ import annotations

import math

from .. import ops
from ..backend.config import floatx
from ..engine.tensor import Tensor, tensor
from ..ops.loss import sum_over_size

__all__ = [
    "REDUCTIONS",
    "apply_mask",
    "reduce_values",
    "reduce_weighted_values",
    "squeeze_or_expand_to_same_rank",
    "standardize_reduction",
]

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    """Check ``reduction`` against the names Keras accepts and return it unchanged."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`: expected one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def as_tensor(x, dtype=None, device=None) -> Tensor:
    """``x`` as a tensor of ``dtype`` (a tensor already of that dtype is returned as is; casts stay differentiable)."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return tensor(x, dtype=dtype, device=device)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Bring two tensors to one rank when their ranks differ by exactly one and the extra axis has size 1.

    The higher-rank one loses its trailing size-1 axis, except that a rank-1
    partner is expanded instead (when ``expand_rank_1``). Any other pair is
    returned unchanged.
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def apply_mask(sample_weight, mask, dtype, reduction, device=None):
    """Merge a boolean ``mask`` into ``sample_weight`` (either may be None).

    For the averaging reductions (``"mean"``, ``"sum_over_batch_size"``) the
    kept entries are scaled by total/kept, so the average runs over the kept
    entries only; otherwise the mask is a 0/1 weight.
    """
    if mask is None:
        return sample_weight
    mask = as_tensor(mask, device=device).detach()
    flags = mask.data.astype(bool)
    if reduction in ("mean", "sum_over_batch_size"):
        total = float(math.prod(mask.shape))
        valid = float(flags.sum().item())
        scale = total / valid if valid else 0.0
        float_mask = Tensor._wrap((flags * scale).astype(dtype))
    else:
        float_mask = Tensor._wrap(flags.astype(dtype))
    if sample_weight is None:
        return float_mask
    sample_weight = as_tensor(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce (already weighted) ``values`` to a scalar: their sum, or the sum over the element count.

    ``"mean_with_sample_weight"`` divides by the sum of ``sample_weight``
    instead when one is given. Scalars and empty ``(0,)`` arrays pass through,
    and a zero divisor gives 0 (not NaN).
    """
    if reduction is None or reduction == "none" or values.shape in ((), (0,)):
        return values
    by_count = reduction != "mean_with_sample_weight" or sample_weight is None
    if by_count and reduction != "sum" and values.size and values.dtype.kind == "f":
        return sum_over_size(values)  # the sum over the element count as one op (the same bits as the two below)
    loss = values.sum()
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = sample_weight.sum().astype(loss.dtype)
        else:
            divisor = tensor(float(math.prod(values.shape)), dtype=loss.dtype, device=loss.device)
        loss = ops.divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample ``values`` by ``sample_weight`` and ``mask`` and apply ``reduction``.

    Args:
        values: per-sample losses, any shape.
        sample_weight: None, a scalar, or an array broadcastable to ``values``
            after rank alignment (see module docstring).
        mask: None or a boolean array shaped like ``values``.
        reduction: one of :data:`REDUCTIONS`.
        dtype: the computation dtype (default ``floatx()``).

    Returns:
        A scalar tensor (differentiable w.r.t. ``values``), or the weighted
        values for ``reduction=None``/``"none"``.
    """
    reduction = standardize_reduction(reduction)
    dtype = dtype or floatx()
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction, device=values.device)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        try:
            values = values * sample_weight
        except ValueError as err:
            raise ValueError(
                f"sample_weight of shape {sample_weight.shape} does not broadcast to the per-sample losses of "
                f"shape {values.shape}: give one weight per sample (shape {values.shape[:1]}) or the losses' shape"
            ) from err
    return reduce_values(values, sample_weight, reduction)
