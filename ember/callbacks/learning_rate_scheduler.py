"""``LearningRateScheduler``: set the learning rate at the start of each epoch from a function."""

from __future__ import annotations

import numpy as np

from .callback import Callback
from .progbar import _write


class LearningRateScheduler(Callback):
    """Sets ``model.optimizer.learning_rate = schedule(epoch, lr)`` before each epoch.

    Args:
        schedule: a function ``(epoch, lr) -> new_lr`` (epoch 0-based, lr the
            current rate as a float), or ``(epoch) -> new_lr``; it must return a float.
        verbose: 1 prints the new rate each epoch.

    Also adds the rate to each epoch's logs as ``'learning_rate'``.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError(
                "LearningRateScheduler: expected the model's optimizer to have a `learning_rate` attribute, "
                f"got {type(optimizer).__name__}"
            )
        return optimizer

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self._optimizer()
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # a one-argument schedule (or a rate that is not a number)
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"LearningRateScheduler: the schedule function must return a float; at epoch {epoch} it "
                f"returned {learning_rate!r} ({type(learning_rate).__name__})"
            )
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            _write(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.\n")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self._optimizer().learning_rate)
