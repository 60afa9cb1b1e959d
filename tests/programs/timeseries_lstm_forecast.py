"""Time series forecasting: sliding windows of a noisy signal, an LSTM forecaster, MAE against a naive baseline."""

import numpy as np
from _support import sine_windows

EXPECT = {"beats_naive": ("equal",), "val_mae": ("at_most", 0.35), "loss": ("at_most", 0.2)}


def main(keras):
    keras.utils.set_random_seed(77)
    x, y = sine_windows(320, window=16, seed=77)
    model = keras.Sequential([keras.Input((16, 1)), keras.layers.LSTM(16), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    history = model.fit(x[:256], y[:256], validation_data=(x[256:], y[256:]), batch_size=32, epochs=5, verbose=0)
    naive_mae = float(np.abs(x[256:, -1, 0] - y[256:, 0]).mean())
    val_mae = float(history.history["val_mae"][-1])
    return {
        "beats_naive": bool(val_mae < 2 * naive_mae + 0.1),
        "val_mae": val_mae,
        "loss": float(history.history["loss"][-1]),
    }
