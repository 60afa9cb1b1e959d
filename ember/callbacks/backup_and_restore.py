"""``BackupAndRestore``: survive an interrupted ``fit`` by resuming exactly where the last backup stopped."""

from __future__ import annotations

import json
import os
import shutil

from ..saving.atomic import atomic_open, atomic_path
from . import training_state
from .callback import Callback


class BackupAndRestore(Callback):
    """Backs up the training state during ``fit`` and restores it when ``fit`` starts again.

    At the end of every epoch (or every ``save_freq`` batches) one file,
    ``backup_dir/latest.weights.h5``, receives everything needed to continue
    exactly: the weights, the optimizer's state (iteration count, slots), the
    epoch and the batches done in it, the shuffle order of that epoch and the
    state of the random generators (``ember.random``'s and those of layers
    such as ``Dropout(seed=...)``), and the epoch's running loss and metrics.
    It is written to a temporary file and moved into place with
    ``os.replace``, so a kill at any moment leaves the previous backup or the
    new one, never a mix. ``training_metadata.json`` (``{"epoch", "batch"}``,
    Keras 3's file, for Keras to read) is written after it; Ember itself
    reads only the state inside the weights file.

    When a later ``fit`` begins with the same callback (or one with the same
    ``backup_dir``) it restores all of it: training continues at the first
    batch that had not finished, in the same order, with the same dropout
    masks, so the resumed run ends with the weights of an uninterrupted run,
    bit for bit (on the CPU). A backup written by Keras (no state inside)
    resumes as Keras does: at the start of the epoch it names. When ``fit``
    completes, the backup is deleted (unless ``delete_checkpoint=False``).

    The model must be built before ``fit`` and be the same model (and
    compile arguments) as the one that wrote the backup, and ``fit`` must get
    the same data and arguments (``batch_size``, ``shuffle``, ``epochs``).

    Args:
        backup_dir: the folder that holds the backup; use it for nothing else.
        save_freq: ``'epoch'`` to back up at the end of each epoch, or an int:
            back up every that many training batches.
        double_checkpoint: also keep the previous backup (``*.bkp``); if the
            latest one cannot be read, the previous one is restored instead.
        delete_checkpoint: delete ``backup_dir`` once ``fit`` finishes.

    Example:
        >>> backup = BackupAndRestore("/tmp/backup", save_freq=100)
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # killed in epoch 4, after its batch 250
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # continues at batch 300 of epoch 4
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
        self._resume_state = None  # a restored mid-epoch state whose running loss and metrics are still to add
        self._save_at_epoch_end = False  # a batch backup due at the epoch's last batch, made at its end instead
        self._latest_unreadable = False  # the latest backup could not be read: keep the previous one as it is
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    # ---- restore -------------------------------------------------------------
    def on_train_begin(self, logs=None):
        # a callback used for a second fit starts counting afresh (the backup, if any, says where training is)
        self._resume_state = None
        self._save_at_epoch_end = False
        self._latest_unreadable = False
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if not getattr(self.model, "built", False):
            raise ValueError(
                f"BackupAndRestore: the model '{self.model.name}' must be built before fit() (call it on a batch or "
                "give it an Input) so that its backup can be restored"
            )
        try:
            self._load_model(self._weights_path, self._training_metadata_path)
        except (OSError, ValueError) as err:
            if not os.path.exists(self._prev_weights_path):
                raise
            # the latest backup is unreadable: fall back to the previous one (and never copy the bad one over it)
            try:
                self._load_model(self._prev_weights_path, self._prev_training_metadata_path)
            except (OSError, ValueError) as err2:
                raise err2 from err
            self._latest_unreadable = True

    def _load_model(self, weights_path, metadata_path) -> None:
        model = self.model
        state = None
        if os.path.exists(weights_path):
            state = training_state.read_state(weights_path)
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(model.trainable_variables)  # so its saved state has slots to fill
            model.load_weights(weights_path)
        if state is not None:
            self._resume(state)
        elif os.path.exists(metadata_path):  # a backup Keras wrote: restart the epoch it names
            try:
                with open(metadata_path) as f:
                    metadata = json.load(f)
                epoch = int(metadata["epoch"])
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(
                    f"BackupAndRestore: '{metadata_path}' is not a training metadata file "
                    f"(expected JSON with an integer 'epoch'): {err}"
                ) from err
            model._initial_epoch = epoch
            self._current_epoch = epoch

    def _resume(self, state) -> None:
        """Position ``fit`` at the saved epoch and batch, with the saved shuffle order and generator states."""
        model = self.model
        epoch, done = state["epoch"], state["batches_done"]
        training_state.restore_rng(model, state)
        model._initial_epoch = epoch
        self._current_epoch = epoch
        if done:
            batches = training_state._fit_batches(model)
            if batches is None:
                raise ValueError(
                    f"BackupAndRestore: the backup stopped after batch {done} of epoch {epoch + 1}, but fit() did "
                    "not expose its data to continue that epoch"
                )
            steps = getattr(batches, "steps", None)
            if steps is not None and done > steps:
                raise ValueError(
                    f"BackupAndRestore: the backup stopped after batch {done} of epoch {epoch + 1}, but this fit() "
                    f"has {steps} batches per epoch; resume with the same data and batch_size"
                )
            batches.resume(done, state.get("order_state"))
            self._last_batch_seen = done - 1
            self._resume_state = state  # its running loss and metrics join the first resumed batch's

    # ---- back up -------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch  # fit may start at a later epoch (initial_epoch) than the backup knows

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._resume_state = None
        if self.save_freq == "epoch" or self._save_at_epoch_end:
            self._save_at_epoch_end = False
            self._save_model(batches_done=0)
        self._last_batch_seen = 0

    def on_train_batch_end(self, batch, logs=None):
        if self._resume_state is not None:
            training_state.add_running_state(self.model, self._resume_state)
            self._resume_state = None
        if self._should_save_on_batch(batch):
            steps = (self.params or {}).get("steps")
            if steps is not None and batch + 1 >= steps:
                # the epoch's last batch: back up once its end (validation, logs, callbacks) has run, as the
                # start of the next epoch, so that a resumed run never re-enters an epoch with no batch left
                self._save_at_epoch_end = True
            else:
                self._save_model(batches_done=batch + 1)

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

    def _save_model(self, batches_done=0) -> None:
        """Write the backup: one atomic file with everything, then Keras's metadata file (for Keras only)."""
        os.makedirs(self.backup_dir, exist_ok=True)
        state = training_state.capture(self.model, self._current_epoch, batches_done)
        if self.double_checkpoint and not self._latest_unreadable:
            for path, previous in (
                (self._weights_path, self._prev_weights_path),
                (self._training_metadata_path, self._prev_training_metadata_path),
            ):
                if os.path.exists(path):
                    with atomic_path(previous) as tmp:
                        shutil.copyfile(path, tmp)
        training_state.write_checkpoint(self.model, self._weights_path, state)
        self._latest_unreadable = False
        with atomic_open(self._training_metadata_path, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)

    def on_train_end(self, logs=None):
        if not (self.delete_checkpoint and os.path.exists(self.backup_dir)):
            return
        # Keras's metadata first, the weights file (which says where training stands) last: a kill in between
        # leaves a backup that resumes correctly (a finished fit), never metadata without its weights
        for path in (
            self._training_metadata_path,
            self._prev_training_metadata_path,
            self._prev_weights_path,
            self._weights_path,
        ):
            if os.path.exists(path):
                os.remove(path)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
