"""Regression with a functional MLP from identical starting weights, plain SGD with momentum, no shuffling."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 1e-4), "mae": ("same", 1e-4), "test_loss": ("same", 1e-4), "pred0": ("same", 1e-4)}


def main(keras):
    rng = np.random.RandomState(2)
    x = rng.normal(size=(256, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1)) + 0.3 * np.sin(3 * x[:, :1])).astype("float32")
    inputs = keras.Input(shape=(5,))
    h = keras.layers.Dense(16, activation="tanh")(inputs)
    outputs = keras.layers.Dense(1)(h)
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=3)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse", metrics=["mae"])
    history = model.fit(x[:200], y[:200], batch_size=20, epochs=3, shuffle=False, verbose=0)
    test_loss, _ = model.evaluate(x[200:], y[200:], verbose=0)
    return {
        "loss": last(history, "loss"),
        "mae": last(history, "mae"),
        "test_loss": float(test_loss),
        "pred0": float(model.predict(x[:1], verbose=0)[0, 0]),
    }
