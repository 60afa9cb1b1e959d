"""Conv2D + BatchNormalization + GlobalAveragePooling2D from identical weights (moving statistics included)."""

import numpy as np
from _support import bar_images, deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "moving_mean_sum": ("same", 2e-4), "test_loss": ("same", 2e-4)}


def main(keras):
    x, y = bar_images(128, size=10, seed=11)
    inputs = keras.Input(shape=(10, 10, 1))
    h = keras.layers.Conv2D(6, 3, padding="same", use_bias=False)(inputs)
    h = keras.layers.BatchNormalization(momentum=0.9)(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Conv2D(8, 3, strides=2)(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    deterministic_init(model, seed=12)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    history = model.fit(x[:96], y[:96].astype("float32"), batch_size=16, epochs=2, shuffle=False, verbose=0)
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)][0]
    test_loss = model.evaluate(x[96:], y[96:].astype("float32"), verbose=0)
    return {
        "loss": last(history, "loss"),
        "moving_mean_sum": float(np.sum(bn.get_weights()[2])),
        "test_loss": float(test_loss),
    }
