"""MultiHeadAttention as self-attention in a functional model, from identical weights."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 3e-4), "pred": ("same", 3e-4), "n_weights": ("equal",)}


def main(keras):
    rng = np.random.RandomState(33)
    x = rng.normal(size=(64, 5, 8)).astype("float32")
    y = x[:, :, 0].max(axis=1, keepdims=True).astype("float32")
    inputs = keras.Input((5, 8))
    h = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    h = keras.layers.LayerNormalization()(h + inputs)
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(h))
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=34)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {
        "loss": last(history, "loss"),
        "pred": float(model.predict(x[:2], verbose=0).sum()),
        "n_weights": len(model.weights),
    }
