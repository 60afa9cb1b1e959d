"""A siamese network: one Dense tower shared by two inputs, their absolute difference, a similarity head."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "accuracy": ("same", 1e-6), "shared_weights": ("equal",)}


def main(keras):
    rng = np.random.RandomState(46)
    a = rng.normal(size=(160, 6)).astype("float32")
    same = rng.randint(0, 2, size=160).astype("float32")
    b = np.where(same[:, None] > 0, a + 0.1 * rng.normal(size=a.shape), rng.normal(size=a.shape)).astype("float32")
    tower = keras.Sequential([keras.Input((6,)), keras.layers.Dense(12, activation="relu"), keras.layers.Dense(6)])
    in_a, in_b = keras.Input((6,)), keras.Input((6,))
    diff = keras.layers.Lambda(lambda t: keras.ops.abs(t[0] - t[1]))([tower(in_a), tower(in_b)])
    out = keras.layers.Dense(1, activation="sigmoid")(diff)
    model = keras.Model([in_a, in_b], out)
    deterministic_init(model, seed=47)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit([a, b], same, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {
        "loss": last(history, "loss"),
        "accuracy": last(history, "accuracy"),
        "shared_weights": len(model.trainable_weights),
    }
