"""Run under ``mpiexec -n N`` (or alone): train a small MLP with DataParallel and save the weights.

Usage: dp_train.py OUT_DIR PER_PROCESS_BATCH MODE  (MODE: plain | eager | dataset | checkpoint | die | hang | resume)
"""

import os
import signal
import sys
import time

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

import ember  # noqa: E402
from ember import distribution, layers  # noqa: E402

out, batch, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
distribution.initialize()
distribution.set_distribution(distribution.DataParallel(devices=distribution.list_devices()))
rank = distribution.rank()

rng = np.random.default_rng(0)
x = rng.standard_normal((64, 6)).astype("float32")
y = np.eye(3, dtype="float32")[rng.integers(0, 3, 64)]
ember.utils.set_random_seed(1)
if rank != 0:
    ember.utils.set_random_seed(99)  # different initial weights: the broadcast from rank 0 must fix them
model = ember.Sequential([ember.Input((6,)), layers.Dense(8, activation="tanh"), layers.Dense(3, activation="softmax")])
model.compile(
    optimizer=ember.optimizers.SGD(0.1, momentum=0.9),
    loss="categorical_crossentropy",
    metrics=["accuracy"],
    run_eagerly=mode == "eager",  # else the compiled step
)

callbacks = []
if mode in ("checkpoint", "die", "resume"):
    callbacks.append(
        ember.callbacks.ModelCheckpoint(os.path.join(out, f"ckpt_rank{rank}.weights.h5"), save_weights_only=True)
    )
    callbacks.append(ember.callbacks.CSVLogger(os.path.join(out, f"log_rank{rank}.csv")))
if mode in ("die", "resume"):
    callbacks.append(ember.callbacks.BackupAndRestore(os.path.join(out, "backup")))


class Die(ember.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)


class Hang(ember.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and rank == 1:
            time.sleep(120)  # alive but silent: the others must give up after EMBER_MPI_TIMEOUT


if mode == "die":
    callbacks.append(Die())
if mode == "hang":
    callbacks.append(Hang())
if mode == "dataset":  # a pipeline: each rank keeps every 2nd batch of the stream
    data = ember.data.Dataset.from_tensor_slices((x, y)).batch(batch)
    history = model.fit(data, epochs=4, verbose=0, callbacks=callbacks)
else:
    history = model.fit(x, y, batch_size=batch, epochs=4, shuffle=False, verbose=0, callbacks=callbacks)
if rank == 0:
    np.savez(os.path.join(out, "weights.npz"), *[w.numpy() for w in model.weights])
    np.save(os.path.join(out, "loss.npy"), np.array(history.history["loss"]))
    np.save(os.path.join(out, "epochs.npy"), np.array(history.epoch))
