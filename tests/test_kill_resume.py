"""Kill and resume: a training process SIGKILLed at any point, run again until done, ends as if never killed.

A small training script (shuffled data, two Dropouts, Adam, ``BackupAndRestore``
backing up every batch) runs in a subprocess. It is killed with SIGKILL at
given batches (a callback kills its own process, for determinism), by a timer
at seeded random moments (anywhere: in a step, in a save, between the files of
a save), and inside a save; then run again, and again, until it finishes. Its
final weights and optimizer state must equal those of a run never killed, bit
for bit, on the default (compiled) training step and on the eager one. No
``.ember-*.tmp`` file of a killed save may survive the next save.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 6
STEPS = 6  # 48 samples in batches of 8

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import ember
    from ember import layers

    backup_dir, out, jit, kill_at, kill_in_save = sys.argv[1:6]
    jit = False if jit == "eager" else "auto"
    ember.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 2))).astype("float32")
    model = ember.Sequential([
        ember.Input((6,)), layers.Dense(16, activation="tanh"), layers.Dropout(0.3),
        layers.Dense(8, activation="relu"), layers.Dropout(0.2, seed=7), layers.Dense(2),
    ])
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="mse", metrics=["mae"], jit_compile=jit)

    class KillAt(ember.callbacks.Callback):
        def __init__(self, at):
            super().__init__()
            self.at, self.epoch = at, None
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            if (self.epoch, batch) == self.at:
                os.kill(os.getpid(), signal.SIGKILL)

    if kill_in_save != "-":  # die while the n-th backup of this run is being written
        from ember.saving import weights_h5
        write, count = weights_h5.save_weights_to_group, [0]
        def dying_write(model, root, include_optimizer=True):
            write(model, root, include_optimizer)
            count[0] += 1
            if count[0] == int(kill_in_save):
                root.file.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        weights_h5.save_weights_to_group = dying_write

    callbacks = [ember.callbacks.BackupAndRestore(backup_dir, save_freq=1)]
    if kill_at != "-":
        callbacks.append(KillAt(tuple(int(v) for v in kill_at.split(","))))
    history = model.fit(x, y, epochs=int(os.environ["KILL_TEST_EPOCHS"]), batch_size=8, shuffle=True, verbose=0,
                        callbacks=callbacks)
    arrays = [w for w in model.get_weights()] + [np.asarray(v.numpy()) for v in model.optimizer.variables]
    np.savez(out, *arrays)
    print("epochs run:", history.epoch)
    """
)


def _run(tmp_path, backup_dir, jit, kill_at="-", kill_in_save="-", timeout=None, out="out.npz"):
    """Run the script once; with ``timeout`` (seconds) SIGKILL it then if still running. Returns the exit code."""
    script = tmp_path / "train.py"
    if not script.exists():
        script.write_text(SCRIPT)
    env = dict(os.environ, KILL_TEST_EPOCHS=str(EPOCHS), PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, str(script), backup_dir, str(tmp_path / out), jit, kill_at, kill_in_save],
        env=env,
        cwd=str(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"the training script failed ({proc.returncode}):\n{stderr}")
    return proc.returncode


def _load(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _temporaries(directory):
    return [n for n in os.listdir(directory) if n.startswith(".ember-") and n.endswith(".tmp")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The final weights and optimizer state of runs never killed, per training path."""
    tmp = tmp_path_factory.mktemp("reference")
    results = {}
    for jit in ("auto", "eager"):
        assert _run(tmp, str(tmp / f"backup-{jit}"), jit, out=f"{jit}.npz") == 0
        results[jit] = _load(tmp / f"{jit}.npz")
    return results


def _assert_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("jit", ["auto", "eager"])
@pytest.mark.slow
def test_killed_at_batches_then_resumed_equals_the_uninterrupted_run(tmp_path, reference, jit):
    rng = random.Random(13 if jit == "auto" else 14)
    points = sorted({(rng.randrange(EPOCHS), rng.randrange(STEPS)) for _ in range(3)})
    points.insert(1, points[0])  # killed twice at the same point: nothing is applied twice
    backup_dir = str(tmp_path / "backup")
    for epoch, batch in points:
        assert _run(tmp_path, backup_dir, jit, kill_at=f"{epoch},{batch}") == -signal.SIGKILL
        assert os.path.exists(os.path.join(backup_dir, "latest.weights.h5")) or (epoch, batch) == (0, 0)
    assert _run(tmp_path, backup_dir, jit) == 0
    _assert_equal(_load(tmp_path / "out.npz"), reference[jit])
    assert not os.path.exists(backup_dir)  # deleted once fit finished


@pytest.mark.slow
def test_killed_inside_saves_leaves_no_temporary_files_behind(tmp_path, reference):
    """Killed while a backup is written: the previous backup stays valid and the orphaned temp file goes."""
    backup_dir = str(tmp_path / "backup")
    assert _run(tmp_path, backup_dir, "auto", kill_in_save="5") == -signal.SIGKILL
    orphans = _temporaries(backup_dir)
    assert len(orphans) == 1 and orphans[0].startswith(".ember-")  # the killed writer's, named with its pid
    assert _run(tmp_path, backup_dir, "auto", kill_in_save="9") == -signal.SIGKILL
    assert len(_temporaries(backup_dir)) == 1  # the first orphan was removed by the next save; a new one
    assert _run(tmp_path, backup_dir, "auto") == 0
    _assert_equal(_load(tmp_path / "out.npz"), reference["auto"])


@pytest.mark.slow
def test_killed_by_a_timer_at_random_moments(tmp_path, reference):
    """SIGKILL from outside, at seeded random moments after start: the run still ends bit for bit."""
    backup_dir = str(tmp_path / "backup")
    start = time.perf_counter()
    assert _run(tmp_path, str(tmp_path / "timing"), "auto", out="timing.npz") == 0
    duration = time.perf_counter() - start  # one whole run, start-up included
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        code = _run(tmp_path, backup_dir, "auto", timeout=rng.uniform(0.4, 1.0) * duration)
        if code == 0:
            break
        kills += 1
    else:
        assert _run(tmp_path, backup_dir, "auto") == 0
    assert kills >= 1  # at least one kill landed before the end
    _assert_equal(_load(tmp_path / "out.npz"), reference["auto"])
    assert not os.path.exists(backup_dir)


def test_orphaned_temporaries_are_recognised_by_pid_and_age(tmp_path):
    """Which ``.ember-*.tmp`` files the next save removes: dead writers', and stale ones older than this process."""
    from ember.saving import atomic

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = time.time() - 3600
    files = {
        f".ember-{dead.pid}-a1b2c3.tmp": None,  # its writer is gone: removed
        f".ember-{os.getpid()}-d4e5f6.tmp": None,  # this process's own save in progress: kept
        ".ember-1-g7h8i9.tmp": old,  # pid 1 is alive, but the file predates this process: removed (pid reused)
        ".ember-1-j0k1l2.tmp": None,  # pid 1 alive and the file is fresh: kept (a live writer's)
        ".ember-legacyname.tmp": old,  # no pid in the name, older than this process: removed
        ".ember-newlegacy.tmp": None,  # no pid, fresh: kept
        "notes.tmp": old,  # not an Ember temporary: kept
        "model.keras": old,
    }
    for name, mtime in files.items():
        path = tmp_path / name
        path.write_bytes(b"partial")
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    with atomic.atomic_open(tmp_path / "model.keras") as f:
        f.write(b"new")
    left = sorted(os.listdir(tmp_path))
    assert left == sorted(
        [f".ember-{os.getpid()}-d4e5f6.tmp", ".ember-1-j0k1l2.tmp", ".ember-newlegacy.tmp", "notes.tmp", "model.keras"]
    )
    assert (tmp_path / "model.keras").read_bytes() == b"new"
