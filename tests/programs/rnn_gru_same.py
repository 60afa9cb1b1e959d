"""A GRU regressor (running sum of a sequence) from identical weights: recurrent kernels, reset_after, Adam."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "val_loss": ("same", 2e-4), "pred": ("same", 2e-4)}


def main(keras):
    rng = np.random.RandomState(21)
    x = rng.uniform(-1, 1, size=(160, 8, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None].astype("float32") / 4
    model = keras.Sequential([keras.Input((8, 2)), keras.layers.GRU(12), keras.layers.Dense(1)])
    deterministic_init(model, seed=22)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(
        x[:128], y[:128], validation_data=(x[128:], y[128:]), batch_size=16, epochs=2, shuffle=False, verbose=0
    )
    return {
        "loss": last(history, "loss"),
        "val_loss": last(history, "val_loss"),
        "pred": float(model.predict(x[:1], verbose=0)[0, 0]),
    }
