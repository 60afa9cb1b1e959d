"""``PiecewiseConstantDecay``: a fixed rate per interval of steps."""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor
from .learning_rate_schedule import LearningRateSchedule, as_tensor


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary.

    Args:
        boundaries: increasing step numbers, one fewer than ``values``.
        values: the rate on each interval.
        name: a name for the schedule.

    Returns (when called with ``step``):
        a 0-d tensor (float32 for float values), the learning rate for that step.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: the length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        if isinstance(step, Tensor):
            step = step.item()
        # Keras compares in the step's dtype: an integer step truncates float boundaries.
        integer_step = isinstance(step, (int, numpy.integer))
        bounds = [int(b) if integer_step else float(b) for b in self.boundaries]
        index = len(bounds)
        for i, bound in enumerate(bounds):
            if step <= bound:
                index = i
                break
        value = self.values[index]
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(self.values[0], (int, numpy.integer)) and not isinstance(self.values[0], bool):
            return Tensor._wrap(numpy.asarray(value, dtype=numpy.int64))
        return as_tensor(value)

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}
