"""Residual connections with layers.Add and a projection shortcut, Dense and Conv1D, from identical weights."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "val_loss": ("same", 2e-4)}


def main(keras):
    layers = keras.layers
    rng = np.random.RandomState(48)
    x = rng.normal(size=(128, 12, 2)).astype("float32")
    y = (x[:, :, 0] * x[:, :, 1]).mean(axis=1, keepdims=True).astype("float32")
    inputs = keras.Input((12, 2))
    h = layers.Conv1D(8, 3, padding="same")(inputs)
    shortcut = layers.Conv1D(8, 1)(inputs)
    h = layers.Add()([layers.Activation("relu")(h), shortcut])
    r = layers.Conv1D(8, 3, padding="same", activation="relu")(h)
    h = layers.add([h, r])
    h = layers.GlobalAveragePooling1D()(h)
    outputs = layers.Dense(1)(h)
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=49)
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, shuffle=False, verbose=0)
    return {"loss": last(history, "loss"), "val_loss": last(history, "val_loss")}
