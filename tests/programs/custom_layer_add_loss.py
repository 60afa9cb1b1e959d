"""A layer that adds an activity penalty with self.add_loss(); fit minimises the compiled loss plus it."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "penalty": ("same", 2e-4), "n_losses": ("equal",)}


def main(keras):
    ops = keras.ops

    class ActivityPenalty(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(ops.square(inputs)))
            return inputs

    rng = np.random.RandomState(54)
    x = rng.normal(size=(96, 5)).astype("float32")
    y = rng.randint(0, 2, size=96).astype("float32")
    inputs = keras.Input((5,))
    h = keras.layers.Dense(10, activation="relu")(inputs)
    h = ActivityPenalty(0.1)(h)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=55)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    model(x[:16])
    return {
        "loss": float(history.history["loss"][-1]),
        "penalty": float(model.losses[0]),
        "n_losses": len(model.losses),
    }
