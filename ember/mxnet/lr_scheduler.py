"""``mx.lr_scheduler``: MXNet 1.x's learning-rate schedules, called with the optimizer's update count.

``Trainer(params, 'sgd', {'learning_rate': 0.1, 'lr_scheduler': FactorScheduler(step=100, factor=0.5)})``: the
optimizer sets the schedule's ``base_lr`` to its ``learning_rate`` (as MXNet) and asks ``schedule(num_update)``
for the rate of each update. The rules and their state are MXNet's: ``FactorScheduler`` and
``MultiFactorScheduler`` multiply ``base_lr`` by ``factor`` once ``num_update`` passes each step (steps count all
updates, the warm-up's included), ``PolyScheduler`` and ``CosineScheduler`` decay
from the rate they were built with to ``final_lr`` at ``max_update``; all warm up first (``linear`` from
``warmup_begin_lr`` to ``base_lr``, or ``constant`` at ``warmup_begin_lr``) over ``warmup_steps`` updates.
"""

from __future__ import annotations

import math


class LRScheduler:
    """Base: ``base_lr`` and the warm-up (``warmup_steps``, ``warmup_begin_lr``, ``warmup_mode``)."""

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        self.base_lr = base_lr
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"{type(self).__name__}: warmup_steps must be an int >= 0, got {warmup_steps!r}")
        if warmup_mode not in ("linear", "constant"):
            raise ValueError(f"{type(self).__name__}: warmup_mode must be 'linear' or 'constant', got {warmup_mode!r}")
        if warmup_begin_lr > base_lr:
            raise ValueError(
                f"{type(self).__name__}: warmup_begin_lr ({warmup_begin_lr}) must not exceed base_lr ({base_lr})"
            )
        self.warmup_steps, self.warmup_begin_lr, self.warmup_mode = warmup_steps, warmup_begin_lr, warmup_mode
        self.warmup_final_lr = base_lr

    def get_warmup_lr(self, num_update):
        if self.warmup_mode == "linear":
            increase = (self.warmup_final_lr - self.warmup_begin_lr) * float(num_update) / float(self.warmup_steps)
            return self.warmup_begin_lr + increase
        return self.warmup_begin_lr

    def __call__(self, num_update):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(num_update)")


class FactorScheduler(LRScheduler):
    """``base_lr * factor ** k`` after every ``step`` updates (``k`` steps passed), floored at ``stop_factor_lr``."""

    def __init__(
        self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"
    ):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if step < 1:
            raise ValueError(f"FactorScheduler: step must be >= 1, got {step}")
        if factor > 1.0:
            raise ValueError(f"FactorScheduler: factor must be <= 1 for the rate to decrease, got {factor}")
        self.step, self.factor, self.stop_factor_lr = step, factor, stop_factor_lr
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while num_update > self.count + self.step:  # a loop: a resumed run may pass several steps at once
            self.count += self.step
            self.base_lr = max(self.base_lr * self.factor, self.stop_factor_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """``base_lr * factor ** k`` once ``num_update`` has passed ``k`` of the increasing ``step`` list."""

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        step = list(step)
        if not step or any(b <= a for a, b in zip(step, step[1:])) or step[0] < 1:
            raise ValueError(f"MultiFactorScheduler: step must be a non-empty increasing list of ints >= 1, got {step}")
        if factor > 1.0:
            raise ValueError(f"MultiFactorScheduler: factor must be <= 1 for the rate to decrease, got {factor}")
        self.step, self.factor = step, factor
        self.cur_step_ind, self.count = 0, 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind < len(self.step) and num_update > self.step[self.cur_step_ind]:
            self.count = self.step[self.cur_step_ind]
            self.cur_step_ind += 1
            self.base_lr *= self.factor
        return self.base_lr


class PolyScheduler(LRScheduler):
    """``final_lr + (base_lr - final_lr) * (1 - t / T) ** pwr`` over the ``T = max_update - warmup_steps`` updates
    after the warm-up; ``final_lr`` after ``max_update``."""

    def __init__(
        self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"
    ):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(max_update, int) or max_update < 1:
            raise ValueError(f"PolyScheduler: max_update must be an int >= 1, got {max_update!r}")
        self.power, self.base_lr_orig, self.max_update, self.final_lr = pwr, self.base_lr, max_update, final_lr
        self.max_steps = max_update - warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            done = float(num_update - self.warmup_steps) / float(self.max_steps)
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * pow(1 - done, self.power)
        return self.base_lr


class CosineScheduler(LRScheduler):
    """``final_lr + (base_lr - final_lr) * (1 + cos(pi * t / T)) / 2`` after the warm-up; ``final_lr`` after
    ``max_update``."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(max_update, int) or max_update < 1:
            raise ValueError(f"CosineScheduler: max_update must be an int >= 1, got {max_update!r}")
        self.base_lr_orig, self.max_update, self.final_lr = base_lr, max_update, final_lr
        self.max_steps = max_update - warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            angle = math.pi * (num_update - self.warmup_steps) / self.max_steps
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (1 + math.cos(angle)) / 2
        return self.base_lr
