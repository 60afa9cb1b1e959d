"""``ReduceLROnPlateau``: lower the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import warnings

import numpy as np

from .monitor_callback import MonitorCallback
from .progbar import _write


def _read_lr(optimizer) -> float:
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise AttributeError(
            f"expected the model's optimizer to have a `learning_rate` attribute, got {type(optimizer).__name__}"
        )
    return float(optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Also adds the current ``'learning_rate'`` to each epoch's logs (so it
    appears in ``History`` and ``CSVLogger``).

    Args:
        monitor: the log key to watch (default ``'val_loss'``).
        factor: the learning rate becomes ``lr * factor`` (must be < 1).
        patience: epochs without improvement before the rate is lowered.
        verbose: 1 prints a line each time the rate is lowered.
        mode: ``'auto'``, ``'min'`` or ``'max'``: the direction of improvement.
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate is never lowered below this.

    Example:
        >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
        >>> model.fit(x, y, validation_split=0.1, callbacks=[reduce_lr])
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0 (it multiplies the rate); got factor={factor}")
        if kwargs:
            warnings.warn(f"ReduceLROnPlateau: ignoring unknown arguments {sorted(kwargs)}", stacklevel=2)
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self) -> bool:
        """Whether a recent reduction still holds the count of waiting epochs at zero."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = getattr(self.model, "optimizer", None)
        logs["learning_rate"] = _read_lr(optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, optimizer, epoch) -> bool:
        old_lr = _read_lr(optimizer)
        # compared in float32: a rate stored in float32 that equals min_lr is not lowered again
        if old_lr <= np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            _write(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.\n")
        return True
