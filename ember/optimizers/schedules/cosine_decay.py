"""``CosineDecay``: half a cosine from the start rate down to ``alpha`` times it, with optional linear warmup."""

from __future__ import annotations

import math

import numpy

from .learning_rate_schedule import (
    LearningRateSchedule,
    as_float32,
    as_tensor,
    check_positive_steps,
    step_as_float32,
)


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), optionally after a linear warmup.

    Without ``warmup_target``: for ``t = min(step, decay_steps) / decay_steps`` the
    rate is ``initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)``.

    With ``warmup_target``: the rate rises linearly from ``initial_learning_rate``
    to ``warmup_target`` over ``warmup_steps`` steps, then decays from
    ``warmup_target`` as above over the next ``decay_steps`` steps.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps to decay over.
        alpha: the floor, as a fraction of the rate decayed from (default 0.0).
        name: a name for the schedule.
        warmup_target: the rate reached at the end of warmup; None means no warmup.
        warmup_steps: the number of warmup steps (default 0).

    Returns (when called with ``step``):
        a 0-d float32 tensor, the learning rate for that step.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        check_positive_steps("decay_steps", decay_steps)

    def _decayed(self, step, decay_steps, start):
        fraction = step / decay_steps
        cosine = numpy.float32(0.5) * (numpy.float32(1) + numpy.cos(numpy.float32(math.pi) * fraction))
        alpha = as_float32(self.alpha)
        return start * ((numpy.float32(1) - alpha) * cosine + alpha)

    def __call__(self, step):
        initial = as_float32(self.initial_learning_rate)
        decay_steps = as_float32(self.decay_steps)
        step = step_as_float32(step)
        if self.warmup_target is None:
            return as_tensor(self._decayed(min(step, decay_steps), decay_steps, initial))
        target = as_float32(self.warmup_target)
        warmup_steps = as_float32(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return as_tensor((target - initial) * (step / warmup_steps) + initial)
        return as_tensor(self._decayed(step - warmup_steps, decay_steps, target))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }
