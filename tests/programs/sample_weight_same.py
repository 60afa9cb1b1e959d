"""Per-sample weights in fit and evaluate (weighted loss and weighted_metrics), from identical weights."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "weighted_mae": ("same", 2e-4), "eval_loss": ("same", 2e-4)}


def main(keras):
    rng = np.random.RandomState(90)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = (x @ np.array([[1.0], [0.5], [-1.0], [2.0]])).astype("float32")
    weights = rng.uniform(0.1, 3.0, size=120).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    deterministic_init(model, seed=91)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", weighted_metrics=["mae"])
    history = model.fit(x, y, sample_weight=weights, batch_size=20, epochs=3, shuffle=False, verbose=0)
    eval_loss, _ = model.evaluate(x, y, sample_weight=weights, verbose=0)
    return {
        "loss": float(history.history["loss"][-1]),
        "weighted_mae": float(history.history["mae"][-1]),
        "eval_loss": float(eval_loss),
    }
