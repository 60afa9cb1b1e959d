"""``ExponentialDecay``: the rate shrinks by ``decay_rate`` every ``decay_steps`` steps."""

from __future__ import annotations

import numpy

from .learning_rate_schedule import (
    LearningRateSchedule,
    as_float32,
    as_tensor,
    check_positive_steps,
    step_as_float32,
)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: the multiplier per ``decay_steps``.
        staircase: if True, ``step / decay_steps`` is floored, so the rate drops in steps.
        name: a name for the schedule.

    Returns (when called with ``step``):
        a 0-d float32 tensor, the learning rate for that step.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        check_positive_steps("decay_steps", decay_steps)

    def __call__(self, step):
        p = step_as_float32(step) / as_float32(self.decay_steps)
        if self.staircase:
            p = numpy.floor(p)
        return as_tensor(as_float32(self.initial_learning_rate) * as_float32(self.decay_rate) ** p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }
