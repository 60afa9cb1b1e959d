"""``BackupAndRestore``: survive an interrupted ``fit`` by resuming from the last backup."""

from __future__ import annotations

import json
import os
import shutil

from ..saving.atomic import atomic_open
from .callback import Callback


class BackupAndRestore(Callback):
    """Backs up the training state during ``fit`` and restores it when ``fit`` starts again.

    At the end of every epoch (or every ``save_freq`` batches) the model's
    weights and its optimizer's state go to ``backup_dir/latest.weights.h5``
    and the number of finished epochs to ``backup_dir/training_metadata.json``
    (the names Keras 3 uses). When a later ``fit`` begins with the same
    callback (or one with the same ``backup_dir``) it loads them back and sets
    ``model._initial_epoch`` so that training continues with the first epoch
    that had not finished. When ``fit`` completes, the backup is deleted
    (unless ``delete_checkpoint=False``).

    The model must be built before ``fit`` and be the same model (and
    compile arguments) as the one that wrote the backup.

    Args:
        backup_dir: the folder that holds the backup; use it for nothing else.
        save_freq: ``'epoch'`` to back up at the end of each epoch, or an int:
            back up every that many training batches.
        double_checkpoint: also keep the previous backup (``*.bkp``); if the
            latest one cannot be read, the previous one is restored instead.
        delete_checkpoint: delete ``backup_dir`` once ``fit`` finishes.

    Example:
        >>> backup = BackupAndRestore("/tmp/backup")
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # interrupted at epoch 4
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # runs epochs 4..9 only
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"BackupAndRestore: expected a non-empty backup_dir, got backup_dir={backup_dir!r}")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(
                f"BackupAndRestore: save_freq must be 'epoch' or an int (batches); got save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    # ---- restore -------------------------------------------------------------
    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ValueError) as err:
            if not os.path.exists(self._prev_weights_path):
                raise
            # the latest backup is unreadable: fall back to the previous one
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            try:
                self._load_model()
            except (OSError, ValueError) as err2:
                raise err2 from err

    def _load_model(self) -> None:
        model = self.model
        if not getattr(model, "built", False):
            raise ValueError(
                f"BackupAndRestore: the model '{model.name}' must be built before fit() (call it on a batch or "
                "give it an Input) so that its backup can be restored"
            )
        if os.path.exists(self._weights_path):
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(model.trainable_variables)  # so its saved state has slots to fill
            model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            try:
                with open(self._training_metadata_path) as f:
                    metadata = json.load(f)
                epoch = int(metadata["epoch"])
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(
                    f"BackupAndRestore: '{self._training_metadata_path}' is not a training metadata file "
                    f"(expected JSON with an integer 'epoch'): {err}"
                ) from err
            model._initial_epoch = epoch

    # ---- back up -------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch) -> bool:
        """Count training batches across epochs and say when ``save_freq`` of them have passed."""
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch restarted the batch count
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            if os.path.exists(self._weights_path):
                shutil.copyfile(self._weights_path, self._prev_weights_path)
            if os.path.exists(self._training_metadata_path):
                shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        self.model.save_weights(self._weights_path, overwrite=True)
        with atomic_open(self._training_metadata_path, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
