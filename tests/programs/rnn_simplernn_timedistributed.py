"""Sequence to sequence: SimpleRNN(return_sequences=True) and TimeDistributed(Dense) tagging each step."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "accuracy": ("same", 1e-5)}


def main(keras):
    rng = np.random.RandomState(27)
    x = rng.normal(size=(96, 10, 3)).astype("float32")
    y = (np.cumsum(x[..., 0], axis=1) > 0).astype("int64")
    model = keras.Sequential(
        [
            keras.Input((10, 3)),
            keras.layers.SimpleRNN(12, return_sequences=True),
            keras.layers.TimeDistributed(keras.layers.Dense(2, activation="softmax")),
        ]
    )
    deterministic_init(model, seed=28)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {"loss": last(history, "loss"), "accuracy": last(history, "accuracy")}
