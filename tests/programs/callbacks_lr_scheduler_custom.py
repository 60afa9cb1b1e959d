"""LearningRateScheduler with a step function, a custom Callback recording the rate at each epoch and
batch counts, and a LambdaCallback."""

import numpy as np
from _support import deterministic_init

EXPECT = {"lrs": ("equal",), "batches": ("equal",), "ends": ("equal",), "loss": ("same", 2e-4)}


def main(keras):
    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.5

    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.lrs, self.batches = [], 0

        def on_epoch_begin(self, epoch, logs=None):
            self.lrs.append(round(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)), 6))

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    ends = []
    rng = np.random.RandomState(83)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    deterministic_init(model, seed=84)
    model.compile(optimizer=keras.optimizers.SGD(0.08), loss="mse")
    recorder = Recorder()
    history = model.fit(
        x,
        y,
        epochs=4,
        batch_size=16,
        shuffle=False,
        verbose=0,
        callbacks=[
            keras.callbacks.LearningRateScheduler(schedule),
            recorder,
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(epoch)),
        ],
    )
    return {"lrs": recorder.lrs, "batches": recorder.batches, "ends": ends, "loss": float(history.history["loss"][-1])}
