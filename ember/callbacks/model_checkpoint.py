"""``ModelCheckpoint``: save the model (or its weights) during training."""

from __future__ import annotations

import inspect
import os
import warnings

from . import training_state
from .monitor_callback import MonitorCallback
from .progbar import _write


def _accepts_overwrite(method) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "overwrite" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _writes_training_state(model, method_name, filepath) -> bool:
    """Whether the checkpoint is Ember's own file with the training state in it (not an overridden ``save``)."""
    from ..models.model import Model

    if not isinstance(model, Model) or getattr(type(model), method_name) is not getattr(Model, method_name):
        return False
    return filepath.endswith(".weights.h5" if method_name == "save_weights" else ".keras")


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at the end of every epoch, or every ``save_freq`` batches.

    ``filepath`` may hold format fields filled from the epoch (1-based) and the
    logs: ``"ckpt/model-{epoch:02d}-{val_loss:.2f}.keras"`` gives
    ``ckpt/model-03-0.41.keras``; when saving by batch, ``{batch}`` is also
    available. Missing folders are created.

    Each file is written atomically (a temporary file, then ``os.replace``)
    and, for Ember's own formats, holds the training state along with the
    weights and the optimizer's state: the epoch and batch reached, the
    shuffle order and the random generators' states (a JSON attribute of a
    ``.weights.h5`` file, an ``ember_training_state.json`` member of a
    ``.keras`` file; Keras ignores both). ``ember.callbacks.restore_training_state``
    reads it back; a ``.weights.h5`` checkpoint is also a valid
    ``BackupAndRestore`` backup (copy it to ``backup_dir/latest.weights.h5``).

    Args:
        filepath: where to save; ends in ``.keras`` (or ``.h5``) for a whole
            model, ``.weights.h5`` with ``save_weights_only=True``.
        monitor: the log key that ``save_best_only`` watches.
        verbose: 1 prints a line at each save (and each skipped save).
        save_best_only: save only when ``monitor`` improves on the best value so far.
        save_weights_only: call ``model.save_weights(path)`` instead of ``model.save(path)``.
        mode: ``'auto'``, ``'min'`` or ``'max'``: the direction of improvement.
        save_freq: ``'epoch'``, or an int: save every that many batches.
        initial_value_threshold: the value ``monitor`` must beat for a first save
            with ``save_best_only``.

    Example:
        >>> ckpt = ModelCheckpoint("best.weights.h5", save_weights_only=True, save_best_only=True)
        >>> model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[ckpt])
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath) if isinstance(filepath, os.PathLike) else filepath
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or an int (batches); got {save_freq!r}")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "ModelCheckpoint: with save_weights_only=True the filepath must end in `.weights.h5`; "
                    f"got filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                f"ModelCheckpoint: the filepath must end in `.keras` (or `.h5`); got filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch) -> bool:
        """Count batches (across epochs) and say when ``save_freq`` of them have passed."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1  # a new epoch started its batch count again
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                _write(f"\nEpoch {epoch + 1}: saving model to {filepath}\n")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                _write(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}\n"
                )
            self.best = current
            return True
        if self.verbose > 0:
            _write(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}\n")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise OSError(
                f"ModelCheckpoint: the filepath must name a file, but it is an existing directory: {filepath}"
            )
        if not self._should_save_model(epoch, logs, filepath):
            return
        name = "save_weights" if self.save_weights_only else "save"
        method = getattr(self.model, name, None)
        if not callable(method):
            raise AttributeError(
                f"ModelCheckpoint: expected the model to have a `{name}(filepath)` method "
                f"(save_weights_only={self.save_weights_only}), but {type(self.model).__name__} has none"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if _writes_training_state(self.model, name, filepath):
            # one atomic file: weights, optimizer state, and where training stands (epoch, batch, shuffle, RNG)
            if batch is None:  # at the epoch's end: a run continuing from here starts the next epoch
                state = training_state.capture(self.model, epoch + 1, 0)
            else:
                state = training_state.capture(self.model, epoch, batch + 1)
            if self.save_weights_only:
                training_state.write_checkpoint(self.model, filepath, state)
            else:
                training_state.write_keras_checkpoint(self.model, filepath, state)
        elif _accepts_overwrite(method):
            method(filepath, overwrite=True)
        else:
            method(filepath)
        if self.verbose > 0:
            _write(f"\nEpoch {epoch + 1}: finished saving model to {filepath}\n")

    def _get_file_path(self, epoch, batch, logs) -> str:
        """``filepath`` with ``{epoch}`` (1-based), ``{batch}`` (1-based, when saving by batch) and log keys filled."""
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'ModelCheckpoint: failed to format the filepath "{self.filepath}": the logs have no key {e}; '
                f"available: epoch{', batch' if batch is not None else ''}, {', '.join(logs)}"
            ) from None
