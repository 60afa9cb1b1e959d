"""Host-side helpers of the metrics: inputs as raw arrays (no graph), rank alignment, safe division.

Metrics never build autodiff graphs: tensors are read through their data, and
all work happens on arrays of the metric's device (NumPy on the CPU, CuPy on a
GPU).
"""

from __future__ import annotations

import numpy

from ..backend.device import Device, device_of_array, is_host_array, to_device, to_host
from ..engine.tensor import Tensor


def to_array(x, device: Device | None = None, dtype=None):
    """``x`` (a tensor, array, list or number) as an array on ``device`` (default: where it already is)."""
    a = x.data if isinstance(x, Tensor) else x
    if isinstance(a, (list, tuple)):
        a = numpy.asarray([v.numpy() if isinstance(v, Tensor) else v for v in a])
    if device is None:
        device = device_of_array(a)
    if device.type == "cpu":
        a = numpy.asarray(to_host(a))
    else:
        a = to_device(a, device) if is_host_array(a) or device_of_array(a) != device else a
    return a.astype(dtype, copy=False) if dtype is not None else a


def xp_of(a):
    """The array module of an array."""
    return device_of_array(a).xp


def align_ranks(x1, x2, expand_rank_1=True):
    """Keras's ``squeeze_or_expand_to_same_rank`` on arrays."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def divide_no_nan(xp, a, b):
    """a / b, and 0 where b == 0."""
    zero = b == 0
    return xp.where(zero, 0, a / xp.where(zero, 1, b)).astype(numpy.result_type(a, b), copy=False)


def mask_of(x):
    """The Keras mask attached to a tensor (``_keras_mask``), or None."""
    return getattr(x, "_keras_mask", None) if isinstance(x, Tensor) else None
