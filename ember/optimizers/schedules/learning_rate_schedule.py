"""``LearningRateSchedule``: a learning rate that depends on the optimizer's step.

A schedule is a callable ``schedule(step) -> learning rate``. An optimizer built
with one calls it with its ``iterations`` counter before every update, so the
rate changes as training goes on. Subclasses implement ``__call__`` and
``get_config``; ``from_config`` rebuilds one from the config.

The built-in schedules compute on the host in float32 (Keras's floatx), the
dtype Keras computes them in, and return a 0-d float32 tensor.
"""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor

_F32 = numpy.float32


class LearningRateSchedule:
    """The base of every learning-rate schedule (named as in Keras 3).

    Subclass it and implement ``__call__(self, step)``, which returns the
    learning rate for the 0-based optimizer step ``step``, and ``get_config()``,
    which returns the constructor arguments as a dict.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate * 0.5 ** (int(step) // 100)
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        """Build the schedule from the dict ``get_config()`` returned."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


def step_as_float32(step) -> numpy.float32:
    """The step (a Python/NumPy number, a 0-d tensor or the iterations Variable) as a float32 scalar."""
    if isinstance(step, Tensor):
        if step.size != 1:
            raise ValueError(f"learning-rate schedule: expected a scalar step, got a tensor of shape {step.shape}")
        step = step.item()
    return _F32(step)


def as_float32(value) -> numpy.float32:
    """A schedule hyperparameter (number or 0-d tensor) as a float32 scalar."""
    if isinstance(value, Tensor):
        value = value.item()
    return _F32(value)


def as_tensor(value) -> Tensor:
    """Wrap a float32 scalar as a 0-d tensor on the host (what schedules return)."""
    return Tensor._wrap(numpy.asarray(value, dtype=_F32))


def check_positive_steps(name: str, value) -> None:
    """Raise as Keras does when a decay length is not positive."""
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")
