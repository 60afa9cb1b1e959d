"""``History``: the record of a ``fit`` run, epoch by epoch (what ``fit`` returns)."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """Records every epoch's logs; ``fit`` adds one to every run and returns it.

    Attributes:
        history: dict mapping each log key (``'loss'``, ``'accuracy'``,
            ``'val_loss'``, ...) to the list of its values, one per epoch.
        epoch: list of the indices of the epochs recorded (restarted by each ``fit``).
        params: the run's parameters, e.g. ``{'verbose': 1, 'epochs': 10, 'steps': 1}``.

    Example:
        >>> history = model.fit(x, y, epochs=3, verbose=0)
        >>> history.history["loss"]        # three floats
        >>> history.epoch
        [0, 1, 2]
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # the model's ``history`` always points at the latest record
        if self.model is not None:
            self.model.history = self
