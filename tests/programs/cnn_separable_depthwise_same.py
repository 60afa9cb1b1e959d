"""SeparableConv2D, DepthwiseConv2D and AveragePooling2D from identical weights: forward and training agree."""

import numpy as np
from _support import bar_images, deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "pred_sum": ("same", 2e-4)}


def main(keras):
    x, y = bar_images(96, size=12, seed=15)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            keras.layers.SeparableConv2D(6, 3, padding="same", activation="relu"),
            keras.layers.AveragePooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    deterministic_init(model, seed=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {"loss": last(history, "loss"), "pred_sum": float(np.sum(model.predict(x[:8], verbose=0)[:, 0]))}
