"""Kernel L2 and activity L1 regularizers from identical weights: the penalties enter the loss the same way."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 1e-4), "kernel_norm": ("same", 1e-4), "n_losses": ("equal",)}


def main(keras):
    rng = np.random.RandomState(5)
    x = rng.normal(size=(160, 6)).astype("float32")
    y = rng.randint(0, 3, size=160)
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            keras.layers.Dense(12, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-2)),
            keras.layers.Dense(3, activation="softmax", activity_regularizer=keras.regularizers.l1(1e-3)),
        ]
    )
    deterministic_init(model, seed=5)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    model(x[:4])
    kernel = model.layers[0].get_weights()[0]
    return {
        "loss": last(history, "loss"),
        "kernel_norm": float(np.sqrt((kernel**2).sum())),
        "n_losses": len(model.losses),
    }
