"""``Normalization``: ``(x - mean) / sqrt(variance)`` with statistics given or learned by ``adapt``."""

from __future__ import annotations

import math

import numpy

from ... import ops
from ...backend.config import epsilon
from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ..layer import Layer
from ._inputs import iter_adapt_batches, to_host_array


class Normalization(Layer):
    """Standardizes features: ``(inputs - mean) / max(sqrt(variance), epsilon)``.

    Statistics are kept per position of the ``axis`` axes and shared over the others
    (the default ``axis=-1`` gives one mean/variance per feature; ``axis=None`` one
    for all). With ``invert=True`` the layer undoes the normalization.

    Shapes: any -> the same. Weights (after ``adapt`` or a build, when ``mean`` is not
    given; non-trainable, Keras's order): mean and variance of shape ``(d_axis...)``,
    then count ``()``.

    Args:
        axis: an int, a tuple of ints or None: the axes that keep their own statistics.
        mean, variance: fixed statistics (broadcastable to the kept axes); give both or neither.
        invert: map normalized values back to the original scale.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if numpy.shape(mean) != numpy.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. Received: "
                    f"mean shape {numpy.shape(mean)} and variance shape {numpy.shape(variance)}"
                )
            if len(numpy.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes ({len(self.axis)}). "
                    f"Received: mean shape {numpy.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Normalization '{self.name}': all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization '{self.name}': all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={input_shape}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance", shape=self._mean_and_var_shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros", trainable=False)
            self.built = True
            self.finalize_state()
        else:
            mean = numpy.asarray(self.input_mean, dtype=self.dtype)
            variance = numpy.asarray(self.input_variance, dtype=self.dtype)
            if mean.ndim > 0:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            self.mean = Tensor(numpy.broadcast_to(mean, self._broadcast_shape).copy())
            self.variance = Tensor(numpy.broadcast_to(variance, self._broadcast_shape).copy())
            self.built = True

    def adapt(self, data) -> None:
        """Compute the mean and variance of ``data`` over the non-``axis`` axes.

        ``data``: an array or tensor (one pass), or an ``ember.data.Dataset`` / iterable of
        batches (combined batch by batch as Keras does; a dataset of single 1-D samples is
        batched by 128 first). ``(x, y)`` elements use ``x``.
        """
        batches = iter(iter_adapt_batches(data, batch_unbatched_ndim=1))
        first = next(batches, None)
        if first is None:
            raise ValueError(
                f"Normalization '{self.name}': adapt() received no data (an empty iterable); "
                "expected at least one batch"
            )
        first = to_host_array(first)
        if not self.built:
            self.build(first.shape)
        else:
            for d in self._keep_axis:
                if first.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"Normalization '{self.name}': the layer was built with input_shape="
                        f"{self._build_input_shape}, but adapt() is being called with data with an "
                        f"incompatible shape, data.shape={first.shape}"
                    )
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}': cannot adapt a layer created with fixed `mean`/`variance`")
        single = isinstance(data, (numpy.ndarray, Tensor, list, tuple))
        total_mean = total_var = None
        total_count = 0
        for batch in _chain(first, batches):
            batch = to_host_array(batch)
            if not single:  # batches are read in the layer's dtype, as Keras does
                batch = batch.astype(self.dtype)
            for d in self._keep_axis:
                if batch.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"Normalization '{self.name}': adapt() yielded a batch with incompatible shape. "
                        f"Expected {self._build_input_shape}, got {batch.shape}."
                    )
            batch_mean = batch.mean(axis=self._reduce_axis)
            batch_var = batch.var(axis=self._reduce_axis)
            if single:
                total_mean, total_var = batch_mean, batch_var
                break
            batch_count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
            total_count += batch_count
            if total_mean is None:
                total_mean = numpy.zeros(self._mean_and_var_shape, dtype=self.dtype)
                total_var = numpy.zeros(self._mean_and_var_shape, dtype=self.dtype)
            w = float(batch_count) / total_count
            keep = 1.0 - w
            new_mean = total_mean * keep + batch_mean * w
            old_part = (total_var + (total_mean - new_mean) ** 2) * keep
            total_var = old_part + (batch_var + (batch_mean - new_mean) ** 2) * w
            total_mean = new_mean
        with no_grad():
            self.adapt_mean.assign(numpy.asarray(total_mean, dtype=self.dtype))
            self.adapt_variance.assign(numpy.asarray(total_var, dtype=self.dtype))
        self.finalize_state()

    def finalize_state(self) -> None:
        """Refresh the broadcastable mean/variance from the adapted weights (after ``adapt`` or ``set_weights``)."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = ops.reshape(self.adapt_mean, tuple(self._broadcast_shape))
        self.variance = ops.reshape(self.adapt_variance, tuple(self._broadcast_shape))

    def set_weights(self, weights) -> None:
        super().set_weights(weights)
        self.finalize_state()

    def call(self, inputs):
        if self.mean is None:
            raise ValueError(
                f"Normalization '{self.name}': you must call `.build(input_shape)` on the layer before using it."
            )
        if inputs.dtype != self.compute_dtype:  # float16 under mixed_float16, as Keras
            inputs = ops.cast(inputs, self.compute_dtype)
        mean = self.mean.detach() if hasattr(self.mean, "detach") else self.mean
        variance = self.variance.detach() if hasattr(self.variance, "detach") else self.variance
        if isinstance(mean, Tensor) and mean.dtype != inputs.dtype:  # the statistics read in the compute dtype
            mean, variance = ops.cast(mean, inputs.dtype), ops.cast(variance, inputs.dtype)
        std = ops.maximum(ops.sqrt(variance), epsilon())
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "invert": self.invert,
                "mean": numpy.array(self.input_mean).tolist(),
                "variance": numpy.array(self.input_variance).tolist(),
            }
        )
        return config


def _chain(first, rest):
    yield first
    yield from rest
