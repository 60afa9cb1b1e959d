"""Reduction metrics: ``Sum``, ``Mean`` of values, and ``MeanMetricWrapper`` (the mean of a per-sample function)."""

from __future__ import annotations

import numpy

from ..backend.device import device_of_array
from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor
from ._arrays import align_ranks, divide_no_nan, mask_of, to_array, xp_of
from .base import Metric

_NDARRAY = numpy.ndarray

__all__ = ["Mean", "MeanMetricWrapper", "Sum", "reduce_to_samplewise_values"]

# fn -> builder(fn_kwargs, y_true shape, y_true dtype, y_pred shape, y_pred dtype) -> hits(y_true, y_pred) or None:
# per-batch hit counters of 0/1-valued per-sample functions (the accuracies register theirs)
_HIT_COUNTERS = {}


def register_hit_counter(fn, builder) -> None:
    """Give :meth:`MeanMetricWrapper.lean_update` a lean form of ``fn``, a per-sample 0/1 function.

    ``builder(fn_kwargs, t_shape, t_dtype, p_shape, p_dtype)`` returns
    ``hits(t, p) -> int`` for host arrays of those shapes and dtypes, the
    number of samples where ``fn`` gives 1 (it must give one value per
    sample there), or None where it has no lean form.
    """
    _HIT_COUNTERS[fn] = builder


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, mask=None):
    """Weighted per-sample values and per-sample weights, as Keras 3's reduction metrics use them.

    Shapes: ``values`` (batch, d1, ...); ``sample_weight`` None or of a rank
    that aligns with ``values``. ``values`` is reduced (``reduce_fn`` =
    ``xp.sum``/``xp.mean``) down to the weights' rank, weighted, then down to
    ``(batch,)``; multi-axis weights are reduced the same way. A ``mask`` only
    matters with weights (it multiplies them), as in Keras.

    Returns:
        ``(values, sample_weight)`` as arrays (``sample_weight`` may be None).
    """
    values = values.astype(dtype, copy=False)
    if sample_weight is not None:
        xp = xp_of(values)
        sample_weight = to_array(sample_weight, device_of_array(values), dtype)
        if mask is not None:
            fm, sample_weight = align_ranks(mask.astype(bool).astype(dtype), sample_weight)
            sample_weight = sample_weight * fm
        values, sample_weight = align_ranks(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        try:
            sample_weight = xp.broadcast_to(sample_weight, values.shape)
        except ValueError as err:
            raise ValueError(
                f"sample_weight of shape {sample_weight.shape} does not broadcast to the per-sample values of "
                f"shape {values.shape}"
            ) from err
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen.

    ``update_state(values, sample_weight=None)``; ``result()`` -> scalar.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        xp = self._device.xp
        mask = mask_of(values)
        values = to_array(values, self._device, self.dtype)
        mask = to_array(mask, self._device) if mask is not None else None
        values, _ = reduce_to_samplewise_values(values, sample_weight, xp.sum, self.dtype, mask)
        self.total.data += values.sum()

    def result(self):
        return self._value(self.total.data)


class Mean(Metric):
    """The (weighted) mean of the values seen: total / count, 0 before any value.

    ``update_state(values, sample_weight=None)``: values of shape (batch, ...)
    are averaged per sample, then each sample counts with its weight (1 by
    default). ``result()`` -> scalar tensor.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        mask = mask_of(values)
        values = to_array(values, self._device, self.dtype)
        mask = to_array(mask, self._device) if mask is not None else None
        self._accumulate(values, sample_weight, mask)

    def _accumulate(self, values, sample_weight, mask=None):
        xp = self._device.xp
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, self._device, self.dtype)
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, xp.mean, self.dtype, mask)
        self.total.data += values.sum()
        if sample_weight is not None:
            self.count.data += sample_weight.sum()
        else:
            self.count.data += values.shape[0] if values.ndim >= 1 else 1

    def result(self):
        xp = self._device.xp
        return self._value(divide_no_nan(xp, self.total.data, self.count.data))


class MeanMetricWrapper(Mean):
    """The mean over all samples of ``fn(y_true, y_pred, **kwargs)`` (a per-sample function, a loss for example).

    Args:
        fn: ``fn(y_true, y_pred, **kwargs)`` -> per-sample values (tensor or array).
        name, dtype: as for :class:`Metric`.
        **kwargs: passed to ``fn``.

    ``update_state(y_true, y_pred, sample_weight=None)``; a mask on ``y_pred``
    (``_keras_mask``) leaves the masked samples out. ``fn`` runs without
    recording a graph.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = mask_of(y_pred)
        y_true, y_pred = self._inputs(y_true, y_pred)
        with no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        values_mask = mask_of(values)
        values = to_array(values, self._device, self.dtype)
        if mask is not None:
            fm = to_array(mask, self._device).astype(bool).astype(self.dtype)
            if sample_weight is None:
                sample_weight = fm
            else:
                sample_weight = to_array(sample_weight, self._device, self.dtype)
                fm, sample_weight = align_ranks(fm, sample_weight)
                sample_weight = sample_weight * fm
        values_mask = to_array(values_mask, self._device) if values_mask is not None else None
        self._accumulate(values, sample_weight, values_mask)

    def lean_update(self, y_true, y_pred):
        """``update(y_true, y_pred)``: :meth:`update_state` for host arrays of these shapes and dtypes, or None.

        For the compiled training step, which calls it once per batch: no
        sample weights, no masks, NumPy arrays shaped and typed as the
        examples given here. It exists where ``fn`` has a registered hit
        counter (the accuracies) and gives the same numbers as
        ``update_state``: the per-sample values are 0 or 1, so their float sum
        is the exact hit count, added to ``total`` as ``update_state`` adds it
        (exact below 2**24 samples in float32).
        """
        builder = _HIT_COUNTERS.get(self._fn)
        if builder is None or self._device.type != "cpu" or self.dtype not in ("float32", "float64"):
            return None
        if type(y_true) is not _NDARRAY or type(y_pred) is not _NDARRAY or not y_pred.ndim:
            return None
        n = y_pred.shape[0]
        if n >= 2**24:
            return None
        hits = builder(self._fn_kwargs, y_true.shape, y_true.dtype, y_pred.shape, y_pred.dtype)
        if hits is None:
            return None
        total, count = self.total, self.count

        def update(y_true, y_pred):
            total.data += hits(y_true, y_pred)
            count.data += n

        return update

    def _inputs(self, y_true, y_pred):
        """The inputs as graph-free tensors on the metric's device."""
        return (
            Tensor._wrap(to_array(y_true, self._device)),
            Tensor._wrap(to_array(y_pred, self._device)),
        )

    def get_config(self):
        from .registry import serialize_function

        return {**super().get_config(), "fn": serialize_function(self._fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        from .registry import deserialize_function

        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize_function(config["fn"])
        return cls(**config)
