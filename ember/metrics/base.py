"""``Metric``: the base class of the metrics (``ember.metrics.Metric``, Keras 3's ``keras.metrics.Metric``)."""

from __future__ import annotations

from ..backend.config import floatx
from ..backend.device import default_device
from ..engine.dtypes import resolve_dtype
from ..engine.tensor import Tensor
from ..engine.variable import Variable
from ..losses._naming import auto_name

__all__ = ["Metric"]


class Metric:
    """A running statistic over batches: ``update_state`` accumulates, ``result`` reads, ``reset_state`` clears.

    State lives in non-trainable :class:`~ember.Variable` objects made with
    :meth:`add_variable` (listed by ``variables``) and is updated in place on
    their arrays, never through the autodiff graph.

    Args:
        dtype: the dtype of the state and results (default ``floatx()``).
        name: the metric's name (default: the class name in snake case).

    Example:
        >>> m = ember.metrics.Mean()
        >>> m.update_state([1.0, 2.0]); m.update_state([3.0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = str(resolve_dtype(dtype or floatx()))
        self._device = default_device()
        self._variables = []
        self._metrics = []

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def device(self):
        """Where the state variables live."""
        return self._device

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None) -> Variable:
        """A non-trainable state variable, zero- or constant-initialised, tracked in ``variables``.

        Args:
            shape: its shape.
            initializer: ``"zeros"``, ``"ones"``, a number, or a callable ``(shape, dtype) -> array``.
            dtype: default the metric's dtype.
            aggregation: accepted for Keras compatibility (how replicas would combine it); unused.
            name: its name; its ``path`` is ``"<metric name>/<name>"``.
        """
        if not hasattr(self, "_variables"):
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before add_variable")
        dtype = str(resolve_dtype(dtype or self.dtype))
        xp = self._device.xp
        shape = tuple(int(s) for s in shape)
        if callable(initializer):
            value = initializer(shape, dtype)
        elif initializer in ("zeros", "Zeros", None):
            value = xp.zeros(shape, dtype=dtype)
        elif initializer in ("ones", "Ones"):
            value = xp.ones(shape, dtype=dtype)
        else:
            value = xp.full(shape, initializer, dtype=dtype)
        if isinstance(value, Tensor):
            value = value.data
        var = Variable(value, dtype=dtype, trainable=False, name=name or "variable")
        var.path = f"{self.name}/{var.name}"
        self._variables.append(var)
        return var

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None) -> Variable:
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state variables, this metric's first, then those of metrics it holds."""
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    def reset_state(self) -> None:
        """Set every state variable back to zero."""
        for v in self.variables:
            v.data[...] = 0

    def update_state(self, *args, **kwargs):
        """Accumulate statistics from one batch. Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__}.update_state is not implemented")

    def result(self):
        """The current value (a scalar tensor). Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__}.result is not implemented")

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _value(self, array) -> Tensor:
        """A result array as a tensor of the metric's dtype."""
        return Tensor._wrap(self._device.xp.asarray(array).astype(self.dtype, copy=False))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"
