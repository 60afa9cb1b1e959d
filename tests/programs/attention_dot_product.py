"""Dot-product attention with the Attention layer over two sequences (a query and a value sequence)."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "pred": ("same", 2e-4)}


def main(keras):
    rng = np.random.RandomState(30)
    q = rng.normal(size=(96, 4, 6)).astype("float32")
    v = rng.normal(size=(96, 7, 6)).astype("float32")
    y = (q.mean(axis=(1, 2)) > v.mean(axis=(1, 2))).astype("float32")
    query = keras.Input((4, 6))
    value = keras.Input((7, 6))
    attended = keras.layers.Attention()([query, value])
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Concatenate()([query, attended]))
    outputs = keras.layers.Dense(1, activation="sigmoid")(pooled)
    model = keras.Model([query, value], outputs)
    deterministic_init(model, seed=31)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit([q, v], y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {"loss": last(history, "loss"), "pred": float(model.predict([q[:2], v[:2]], verbose=0).sum())}
