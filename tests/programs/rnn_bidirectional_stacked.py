"""Stacked recurrent layers: Bidirectional(LSTM(return_sequences=True)) then LSTM, from identical weights."""

import numpy as np
from _support import deterministic_init, last, token_sequences

EXPECT = {"loss": ("same", 3e-4), "accuracy": ("same", 1e-6), "pred": ("same", 3e-4)}


def main(keras):
    x, y = token_sequences(128, length=8, vocab=12, seed=23)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Embedding(12, 6),
            keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True)),
            keras.layers.LSTM(6),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    deterministic_init(model, seed=24)
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {
        "loss": last(history, "loss"),
        "accuracy": last(history, "accuracy"),
        "pred": float(np.sum(model.predict(x[:4], verbose=0))),
    }
