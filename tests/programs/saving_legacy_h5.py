"""The legacy HDF5 format that many programs still use: ModelCheckpoint("best_model.h5") during fit and
model.save("final_model.h5"), then load_model of both (Keras 3 warns that the format is legacy)."""

import os

import numpy as np
from _support import blobs

EXPECT = {
    "final_diff": ("at_most", 1e-6),
    "best_exists": ("equal",),
    "best_accuracy": ("at_least", 0.85),
    "compiled": ("equal",),
}
EXPECTED_WARNINGS = ("HDF5 file", "legacy")


def main(keras):
    keras.utils.set_random_seed(89)
    x, y = blobs(240, d=4, k=2, seed=89)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(2e-2), loss="binary_crossentropy", metrics=["accuracy"])
    checkpoint = keras.callbacks.ModelCheckpoint("best_model.h5", monitor="val_loss", save_best_only=True)
    model.fit(x, y, validation_split=0.25, epochs=4, batch_size=20, callbacks=[checkpoint], verbose=0)
    model.save("final_model.h5")
    final = keras.models.load_model("final_model.h5")
    best = keras.models.load_model("best_model.h5")
    _, best_accuracy = best.evaluate(x, y, verbose=0)
    return {
        "final_diff": float(np.abs(final.predict(x, verbose=0) - model.predict(x, verbose=0)).max()),
        "best_exists": os.path.exists("best_model.h5"),
        "best_accuracy": float(best_accuracy),
        "compiled": final.optimizer is not None,
    }
