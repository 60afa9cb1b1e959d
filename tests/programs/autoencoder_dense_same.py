"""A dense autoencoder (encoder and decoder as separate models, chained) from identical weights."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "val_loss": ("same", 2e-4), "code_norm": ("same", 2e-4)}


def main(keras):
    rng = np.random.RandomState(70)
    x = (rng.normal(size=(240, 3)) @ rng.normal(size=(3, 20))).astype("float32")
    x /= np.abs(x).max()
    encoder = keras.Sequential(
        [keras.Input((20,)), keras.layers.Dense(10, activation="relu"), keras.layers.Dense(3)], name="encoder"
    )
    decoder = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(10, activation="relu"), keras.layers.Dense(20)], name="decoder"
    )
    inputs = keras.Input((20,))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    deterministic_init(autoencoder, seed=71)
    autoencoder.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse")
    history = autoencoder.fit(
        x[:200], x[:200], validation_data=(x[200:], x[200:]), batch_size=20, epochs=3, shuffle=False, verbose=0
    )
    codes = encoder.predict(x[:10], verbose=0)
    return {
        "loss": last(history, "loss"),
        "val_loss": last(history, "val_loss"),
        "code_norm": float(np.sqrt((codes**2).sum())),
    }
