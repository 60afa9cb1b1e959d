"""A convolutional denoising autoencoder: Conv2D + MaxPooling2D down, Conv2DTranspose + UpSampling2D up."""

import numpy as np
from _support import bar_images, deterministic_init, last

EXPECT = {"loss": ("same", 3e-4), "denoised_mse": ("same", 3e-4), "shape": ("equal",)}


def main(keras):
    layers = keras.layers
    clean, _ = bar_images(96, size=8, seed=72)
    noisy = np.clip(clean + np.random.RandomState(73).normal(0, 0.2, clean.shape), 0, 1).astype("float32")
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(h)
    h = layers.Conv2D(4, 3, activation="relu", padding="same")(h)
    h = layers.MaxPooling2D(2)(h)
    h = layers.UpSampling2D(2)(h)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(h)
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=74)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(noisy, clean, batch_size=16, epochs=2, shuffle=False, verbose=0)
    denoised = model.predict(noisy[:8], verbose=0)
    return {
        "loss": last(history, "loss"),
        "denoised_mse": float(((denoised - clean[:8]) ** 2).mean()),
        "shape": list(denoised.shape),
    }
