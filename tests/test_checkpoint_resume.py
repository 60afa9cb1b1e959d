"""Checkpoints and resuming: ModelCheckpoint files load back; BackupAndRestore resumes an interrupted fit.

A fit interrupted by an exception at epoch 2 and then run again with
``BackupAndRestore`` must end with exactly the weights and the History tail of
an uninterrupted fit (bit for bit on the CPU, shuffle=False, no randomness in
the step). Real Keras 3 with the same weights and data is the oracle for which
epochs the resumed fit runs, the files the backup holds, and (at float32
tolerance) the losses.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for BackupAndRestore")

import ember  # noqa: E402
from ember import callbacks as ecb  # noqa: E402
from ember import layers as el  # noqa: E402

EPOCHS = 5
STOP_AT = 2


class InterruptError(RuntimeError):
    pass


def _interrupter(lib, at):
    class Interrupting(lib.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == at:
                raise InterruptError(f"interrupted at epoch {epoch}")

    return Interrupting()


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 2)) + 0.1).astype("float32")
    return x, y


def _initial_weights():
    rng = np.random.default_rng(1)
    return [
        rng.normal(scale=0.4, size=(6, 8)).astype("float32"),
        rng.normal(scale=0.1, size=(8,)).astype("float32"),
        rng.normal(scale=0.4, size=(8, 2)).astype("float32"),
        rng.normal(scale=0.1, size=(2,)).astype("float32"),
    ]


def _ember_model(optimizer="adam"):
    model = ember.Sequential([ember.Input((6,)), el.Dense(8, activation="tanh"), el.Dense(2)])
    model.set_weights(_initial_weights())
    opt = ember.optimizers.Adam(0.01) if optimizer == "adam" else ember.optimizers.SGD(0.05, momentum=0.9)
    model.compile(optimizer=opt, loss="mse", metrics=["mae"])
    return model


def _keras_model(optimizer="adam"):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    model.set_weights(_initial_weights())
    opt = keras.optimizers.Adam(0.01) if optimizer == "adam" else keras.optimizers.SGD(0.05, momentum=0.9)
    model.compile(optimizer=opt, loss="mse", metrics=["mae"])
    return model


def _fit_interrupted_then_resumed(lib, make_model, backup_dir, **backup_kwargs):
    """Fit until the interrupter fires at STOP_AT, then fit again (a fresh model, as after a crash)."""
    x, y = _data()
    model = make_model()
    backup = lib.callbacks.BackupAndRestore(backup_dir, **backup_kwargs)
    with pytest.raises(InterruptError):
        model.fit(
            x, y, epochs=EPOCHS, batch_size=8, shuffle=False, verbose=0, callbacks=[backup, _interrupter(lib, STOP_AT)]
        )
    files = sorted(os.listdir(backup_dir))
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        metadata = json.load(f)
    model = make_model()  # the process restarted: same architecture, fresh weights
    backup = lib.callbacks.BackupAndRestore(backup_dir, **backup_kwargs)
    history = model.fit(x, y, epochs=EPOCHS, batch_size=8, shuffle=False, verbose=0, callbacks=[backup])
    return model, history, files, metadata


# --------------------------------------------------------------------------------------
# ModelCheckpoint
# --------------------------------------------------------------------------------------


def test_model_checkpoint_save_best_only_writes_loadable_keras_files(tmp_path):
    x, y = _data()
    model = _ember_model()
    snapshots = {}

    class Snapshot(ecb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = (logs["val_loss"], model.predict(x, verbose=0))

    path = str(tmp_path / "ckpt" / "best-{epoch:02d}.keras")
    ckpt = ecb.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    model.fit(
        x, y, validation_split=0.25, epochs=4, batch_size=8, shuffle=False, verbose=0, callbacks=[ckpt, Snapshot()]
    )
    val = [snapshots[e][0] for e in range(4)]
    expected = [e for e in range(4) if val[e] < min(val[:e], default=np.inf)]
    written = sorted(os.listdir(tmp_path / "ckpt"))
    assert written == [f"best-{e + 1:02d}.keras" for e in expected]
    for e in expected:
        loaded = ember.models.load_model(str(tmp_path / "ckpt" / f"best-{e + 1:02d}.keras"))
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), snapshots[e][1])
        # the optimizer's state came along: the loaded model keeps training from where it was
        assert int(np.asarray(loaded.optimizer.iterations)) == (e + 1) * 5

    # the last best file also loads in real Keras and predicts the same
    last = str(tmp_path / "ckpt" / f"best-{expected[-1] + 1:02d}.keras")
    kmodel = keras.models.load_model(last)
    np.testing.assert_allclose(
        np.asarray(kmodel.predict(x, verbose=0)), snapshots[expected[-1]][1], rtol=1e-5, atol=1e-6
    )


def test_model_checkpoint_single_file_keeps_the_best(tmp_path):
    x, y = _data()
    model = _ember_model()
    path = str(tmp_path / "best.keras")
    best = {}

    class Track(ecb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["val_loss"] < best.get("val_loss", np.inf):
                best.update(val_loss=logs["val_loss"], pred=model.predict(x, verbose=0))

    ckpt = ecb.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    model.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, shuffle=False, verbose=0, callbacks=[ckpt, Track()])
    np.testing.assert_array_equal(ember.models.load_model(path).predict(x, verbose=0), best["pred"])


# --------------------------------------------------------------------------------------
# BackupAndRestore
# --------------------------------------------------------------------------------------


def test_backup_and_restore_arguments_match_keras(tmp_path):
    kb = keras.callbacks.BackupAndRestore(str(tmp_path))
    eb = ecb.BackupAndRestore(str(tmp_path))
    for name in ("save_freq", "double_checkpoint", "delete_checkpoint"):
        assert getattr(eb, name) == getattr(kb, name), name
    with pytest.raises(ValueError, match="backup_dir"):
        ecb.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        ecb.BackupAndRestore(str(tmp_path), save_freq="batch")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_interrupted_fit_resumes_bit_for_bit(tmp_path, optimizer):
    x, y = _data()
    reference = _ember_model(optimizer)
    full = reference.fit(x, y, epochs=EPOCHS, batch_size=8, shuffle=False, verbose=0)

    backup_dir = str(tmp_path / "backup")
    model, history, files, metadata = _fit_interrupted_then_resumed(ember, lambda: _ember_model(optimizer), backup_dir)
    assert files == ["latest.weights.h5", "training_metadata.json"]
    assert metadata == {"epoch": STOP_AT, "batch": 0}
    assert history.epoch == list(range(STOP_AT, EPOCHS))
    assert set(history.history) == set(full.history)
    for key, values in full.history.items():
        assert history.history[key] == values[STOP_AT:], key  # bit for bit
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert int(np.asarray(model.optimizer.iterations)) == int(np.asarray(reference.optimizer.iterations))
    assert not os.path.exists(backup_dir)  # delete_checkpoint=True


def test_interrupted_fit_matches_keras_backup_and_restore(tmp_path):
    emodel, ehist, efiles, emeta = _fit_interrupted_then_resumed(ember, _ember_model, str(tmp_path / "e"))
    kmodel, khist, kfiles, kmeta = _fit_interrupted_then_resumed(keras, _keras_model, str(tmp_path / "k"))
    assert efiles == kfiles
    assert emeta == kmeta
    assert ehist.epoch == khist.epoch
    assert set(ehist.history) == set(khist.history)
    for key in khist.history:
        np.testing.assert_allclose(ehist.history[key], khist.history[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for got, want in zip(emodel.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_backup_written_by_ember_loads_in_keras(tmp_path):
    """Ember's latest.weights.h5 (weights + optimizer state) restores a Keras fit at the same epoch."""
    x, y = _data()
    backup_dir = str(tmp_path / "backup")
    model = _ember_model()
    with pytest.raises(InterruptError):
        model.fit(
            x,
            y,
            epochs=EPOCHS,
            batch_size=8,
            shuffle=False,
            verbose=0,
            callbacks=[ecb.BackupAndRestore(backup_dir), _interrupter(ember, STOP_AT)],
        )
    saved = [w.copy() for w in model.get_weights()]
    seen = {}

    class Capture(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen[epoch] = [np.asarray(w).copy() for w in self.model.get_weights()]
            seen["iterations"] = int(np.asarray(self.model.optimizer.iterations))

    kmodel = _keras_model()
    history = kmodel.fit(
        x,
        y,
        epochs=STOP_AT + 1,
        batch_size=8,
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False), Capture()],
    )
    assert history.epoch == [STOP_AT]
    for got, want in zip(seen[STOP_AT], saved):
        np.testing.assert_array_equal(got, want)
    assert seen["iterations"] == STOP_AT * 6  # the optimizer's state came along
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == STOP_AT + 1


def test_backup_every_n_batches_and_double_checkpoint(tmp_path):
    x, y = _data()
    backup_dir = str(tmp_path / "backup")
    model = _ember_model()
    cb = ecb.BackupAndRestore(backup_dir, save_freq=4, double_checkpoint=True, delete_checkpoint=False)
    saves = []
    original = cb._save_model

    def counting(*args, **kwargs):
        saves.append(cb._last_batch_seen)
        original(*args, **kwargs)

    cb._save_model = counting
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[cb])
    kmodel = _keras_model()
    kcb = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), save_freq=4, double_checkpoint=True)
    ksaves = []
    koriginal = kcb._save_model

    def kcounting():
        ksaves.append(kcb._last_batch_seen)
        koriginal()

    kcb._save_model = kcounting
    kmodel.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[kcb])
    assert saves == ksaves
    assert sorted(os.listdir(backup_dir)) == [
        "latest.weights.h5",
        "latest.weights.h5.bkp",
        "training_metadata.json",
        "training_metadata.json.bkp",
    ]


def test_corrupt_latest_backup_falls_back_to_previous(tmp_path):
    x, y = _data()
    backup_dir = str(tmp_path / "backup")
    model = _ember_model()
    cb = ecb.BackupAndRestore(backup_dir, double_checkpoint=True, delete_checkpoint=False)
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[cb])
    with open(os.path.join(backup_dir, "latest.weights.h5"), "wb") as f:
        f.write(b"not an hdf5 file")
    fresh = _ember_model()
    restorer = ecb.BackupAndRestore(backup_dir, double_checkpoint=True)
    restorer.set_model(fresh)
    restorer.on_train_begin()
    assert fresh._initial_epoch == 1  # the previous backup: after the first epoch


def test_unbuilt_model_is_refused(tmp_path):
    model = ember.Sequential([el.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    cb = ecb.BackupAndRestore(str(tmp_path / "b"))
    cb.set_model(model)
    with pytest.raises(ValueError, match="must be built"):
        cb.on_train_begin()
