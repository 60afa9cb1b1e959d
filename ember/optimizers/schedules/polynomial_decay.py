"""``PolynomialDecay``: the rate moves from its start to ``end_learning_rate`` along ``(1 - t) ** power``."""

from __future__ import annotations

import numpy

from .learning_rate_schedule import (
    LearningRateSchedule,
    as_float32,
    as_tensor,
    check_positive_steps,
    step_as_float32,
)


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``.

    Without ``cycle`` the step is capped at ``decay_steps`` (the rate then stays
    at ``end_learning_rate``). With ``cycle`` the horizon grows to the next
    multiple of ``decay_steps`` above the step, so the rate jumps back up.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps to reach ``end_learning_rate``.
        end_learning_rate: the final rate (default 0.0001).
        power: the exponent of the polynomial (default 1.0, linear).
        cycle: whether to restart after ``decay_steps``.
        name: a name for the schedule.

    Returns (when called with ``step``):
        a 0-d float32 tensor, the learning rate for that step.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        check_positive_steps("decay_steps", decay_steps)

    def __call__(self, step):
        initial = as_float32(self.initial_learning_rate)
        end = as_float32(self.end_learning_rate)
        step = step_as_float32(step)
        horizon = as_float32(self.decay_steps)
        if self.cycle:
            multiplier = numpy.float32(1) if step == 0 else numpy.ceil(step / horizon)
            horizon = horizon * multiplier
        else:
            step = min(step, horizon)
        p = step / horizon
        return as_tensor((initial - end) * (numpy.float32(1) - p) ** as_float32(self.power) + end)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }
