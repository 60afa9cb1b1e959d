"""A Conv1D + Dense forecaster on windows, from identical weights, with a Huber loss and MAE metric."""

from _support import deterministic_init, last, sine_windows

EXPECT = {"loss": ("same", 2e-4), "mae": ("same", 2e-4), "val_mae": ("same", 2e-4)}


def main(keras):
    x, y = sine_windows(200, window=12, seed=78)
    model = keras.Sequential(
        [
            keras.Input((12, 1)),
            keras.layers.Conv1D(8, 4, activation="relu"),
            keras.layers.AveragePooling1D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    deterministic_init(model, seed=79)
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss=keras.losses.Huber(delta=0.5), metrics=["mae"])
    history = model.fit(
        x[:160], y[:160], validation_data=(x[160:], y[160:]), batch_size=16, epochs=3, shuffle=False, verbose=0
    )
    return {"loss": last(history, "loss"), "mae": last(history, "mae"), "val_mae": last(history, "val_mae")}
