"""Binary classification with Dropout and BatchNormalization (random masks differ: floors, not equality)."""

import numpy as np
from _support import last

EXPECT = {"accuracy": ("at_least", 0.8), "val_accuracy": ("at_least", 0.8), "auc": ("at_least", 0.85)}


def main(keras):
    keras.utils.set_random_seed(4)
    rng = np.random.RandomState(4)
    x = rng.normal(size=(500, 10)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("float32")
    model = keras.Sequential(
        [
            keras.Input(shape=(10,)),
            keras.layers.Dense(64),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    history = model.fit(x[:400], y[:400], validation_data=(x[400:], y[400:]), batch_size=32, epochs=8, verbose=0)
    return {k: last(history, k) for k in EXPECT}
