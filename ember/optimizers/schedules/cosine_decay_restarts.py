"""``CosineDecayRestarts``: cosine decay that restarts, each period ``t_mul`` times longer (SGDR)."""

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


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (Loshchilov & Hutter, SGDR).

    The first period lasts ``first_decay_steps`` steps; period ``i`` lasts
    ``first_decay_steps * t_mul ** i`` steps and starts from
    ``initial_learning_rate * m_mul ** i``. Within a period the rate follows
    ``(1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha`` times that start.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: positive length of the first period.
        t_mul: how much longer each period is than the one before (default 2.0).
        m_mul: how much lower each period starts than the one before (default 1.0).
        alpha: the floor, as a fraction of the period's start rate (default 0.0).
        name: a name for the schedule.

    Returns (when called with ``step``):
        a 0-d float32 tensor, the learning rate for that step.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        check_positive_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step):
        one = numpy.float32(1)
        t_mul = as_float32(self._t_mul)
        fraction = step_as_float32(step) / as_float32(self.first_decay_steps)
        if t_mul == one:
            restart = numpy.floor(fraction)
            fraction = fraction - restart
        else:
            restart = numpy.floor(numpy.log(one - fraction * (one - t_mul)) / numpy.log(t_mul))
            done = (one - t_mul**restart) / (one - t_mul)
            fraction = (fraction - done) / t_mul**restart
        m_factor = as_float32(self._m_mul) ** restart
        cosine = numpy.float32(0.5) * m_factor * (one + numpy.cos(numpy.float32(math.pi) * fraction))
        alpha = as_float32(self.alpha)
        return as_tensor(as_float32(self.initial_learning_rate) * ((one - alpha) * cosine + alpha))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }
