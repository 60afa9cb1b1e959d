"""EarlyStopping(restore_best_weights=True) and ReduceLROnPlateau on a task that stops improving."""

import numpy as np
from _support import deterministic_init

EXPECT = {
    "epochs_run": ("equal",),
    "final_lr": ("same", 1e-6),
    "restored_val_loss": ("same", 2e-4),
    "best_val_loss": ("same", 2e-4),
}


def main(keras):
    rng = np.random.RandomState(80)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = (x[:, :1] + rng.normal(scale=1.0, size=(120, 1))).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    deterministic_init(model, seed=81)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-3),
    ]
    history = model.fit(
        x[:80],
        y[:80],
        validation_data=(x[80:], y[80:]),
        epochs=25,
        batch_size=16,
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )
    restored = model.evaluate(x[80:], y[80:], verbose=0)
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    return {
        "epochs_run": len(history.history["loss"]),
        "final_lr": lr,
        "restored_val_loss": float(restored),
        "best_val_loss": float(min(history.history["val_loss"])),
    }
