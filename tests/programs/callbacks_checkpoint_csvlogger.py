"""ModelCheckpoint(save_best_only=True) to .keras and CSVLogger during fit; the best model is loaded back."""

import csv

from _support import blobs

EXPECT = {
    "csv_rows": ("equal",),
    "csv_columns": ("equal",),
    "best_matches": ("equal",),
    "best_accuracy": ("at_least", 0.9),
}


def main(keras):
    keras.utils.set_random_seed(82)
    x, y = blobs(300, d=5, k=3, seed=82)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [
        keras.callbacks.ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True),
        keras.callbacks.CSVLogger("training.csv"),
    ]
    history = model.fit(
        x[:240], y[:240], validation_data=(x[240:], y[240:]), epochs=4, batch_size=32, callbacks=callbacks, verbose=0
    )
    with open("training.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    best = keras.models.load_model("best.keras")
    _, best_accuracy = best.evaluate(x[240:], y[240:], verbose=0)
    best_logged = max(history.history["val_accuracy"])
    return {
        "csv_rows": len(rows),
        "csv_columns": sorted(rows[0]),
        "best_matches": bool(abs(best_accuracy - best_logged) < 1e-6),
        "best_accuracy": float(best_accuracy),
    }
