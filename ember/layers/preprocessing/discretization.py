"""``Discretization``: bucket numbers by boundaries (given, or learned as quantiles by ``adapt``)."""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor
from ..layer import Layer
from ._encoding import encode_categorical
from ._inputs import iter_adapt_batches, to_host_array

_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Map each number to the index of its bucket, as ``keras.layers.Discretization``.

    With boundaries ``[b0, b1, ...]`` a value ``x`` goes to bucket ``i`` where
    ``b[i-1] <= x < b[i]`` (``numpy.digitize``). ``adapt(data)`` learns
    ``num_bins - 1`` boundaries as approximate quantiles (Keras's summary
    algorithm: ``1 / epsilon`` weighted points per batch, merged across batches).

    Shapes: "int" keeps the input's shape (int32); "one_hot" appends an axis of
    ``len(bin_boundaries) + 1``; "multi_hot"/"count" replace the last axis by it.

    Args:
        bin_boundaries: sorted boundaries, or None to ``adapt``.
        num_bins: the number of buckets ``adapt`` makes.
        epsilon: the quantiles' error tolerance (0.01).
        output_mode: "int", "one_hot", "multi_hot" or "count".
        sparse: must be False (Ember has no sparse tensors).
    """

    def __init__(
        self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, dtype=None, name=None
    ):
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError("`sparse=True` cannot be used with Ember (it has no sparse tensors); pass sparse=False")
        if output_mode not in _MODES:
            raise ValueError(
                f"Invalid value for argument `output_mode` of Discretization: expected one of {_MODES}. "
                f"Received: output_mode={output_mode!r}"
            )
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: `num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = list(bin_boundaries) if bin_boundaries is not None else None
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if self.bin_boundaries else numpy.zeros((2, 0), "float32")
        self.built = True

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.dtype

    # ---- adapt ----------------------------------------------------------------------------
    def adapt(self, data, steps=None) -> None:
        """Learn ``num_bins - 1`` quantile boundaries from ``data`` (an array, a dataset or an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, use `num_bins` "
                "instead."
            )
        self.reset_state()
        for batch in iter_adapt_batches(data, steps=steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data) -> None:
        values = numpy.asarray(to_host_array(data), dtype="float32")
        self.summary = _merge(_summarize(values, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is not None:
            self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = numpy.zeros((2, 0), "float32")

    # ---- call -----------------------------------------------------------------------------
    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or call "
                "`adapt(dataset)` before you can start using the `Discretization` layer."
            )
        # inputs and boundaries compared in floatx, as Keras (its input dtype is floatx)
        values = numpy.asarray(inputs.numpy() if isinstance(inputs, Tensor) else inputs, dtype="float32")
        indices = numpy.digitize(values, numpy.asarray(self.bin_boundaries, dtype="float32"))
        indices = Tensor(indices.astype("int32"))
        if self.output_mode == "int":
            return indices
        return encode_categorical(indices, self.output_mode, len(self.bin_boundaries) + 1, dtype=self.dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        if len(input_shape) >= 2:
            return (input_shape[0], *input_shape[2:], depth)
        return (depth,)

    def get_config(self) -> dict:
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)


def _summarize(values, epsilon):
    """A (2, n) summary of ``values``: every ``step``-th sorted value with weight ``step``, ``step = len * epsilon``."""
    values = numpy.sort(values.reshape(-1))
    step = max(values.size * epsilon, 1)
    points = values[int(step - 1) :: int(step)]
    return numpy.stack([points, numpy.full_like(points, step)])


def _merge(a, b, epsilon):
    merged = numpy.concatenate((a, b), axis=1)
    merged = merged[:, numpy.argsort(merged[0], kind="stable")]
    return _compress(merged, epsilon)


def _compress(summary, epsilon):
    """At most ``1 / epsilon`` points: the values at evenly spaced cumulative weight fractions (interpolated)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + numpy.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    where = cumulative / cumulative[-1]
    points = numpy.interp(fractions, where, summary[0])
    cumulative = numpy.interp(fractions, where, cumulative)
    weights = cumulative - numpy.concatenate(([0.0], cumulative[:-1]))
    return numpy.stack((points, weights)).astype("float32")
