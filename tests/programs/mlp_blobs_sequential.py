"""A Sequential MLP classifying Gaussian blobs (sparse labels, Adam), the first program of every Keras tutorial."""

from _support import blobs, last

EXPECT = {"accuracy": ("at_least", 0.9), "val_accuracy": ("at_least", 0.85), "loss": ("at_most", 0.5)}


def main(keras):
    keras.utils.set_random_seed(1)
    x, y = blobs(400, d=8, k=4, seed=1)
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.2, verbose=0)
    return {k: last(history, k) for k in ("accuracy", "val_accuracy", "loss")}
