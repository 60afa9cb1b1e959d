"""Save a compiled, trained model to .keras, load it, check predictions and keep training from the
restored optimizer state (both copies then take identical steps)."""

import numpy as np
from _support import blobs

EXPECT = {
    "pred_diff": ("at_most", 1e-6),
    "resumed_diff": ("at_most", 1e-5),
    "iterations": ("equal",),
    "optimizer": ("equal",),
}


def main(keras):
    keras.utils.set_random_seed(87)
    x, y = blobs(160, d=4, k=3, seed=87)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    model.save("model.keras")
    restored = keras.models.load_model("model.keras")
    pred_diff = np.abs(restored.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    restored.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    resumed_diff = np.abs(restored.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    return {
        "pred_diff": float(pred_diff),
        "resumed_diff": float(resumed_diff),
        "iterations": int(keras.ops.convert_to_numpy(restored.optimizer.iterations)),
        "optimizer": type(restored.optimizer).__name__,
    }
