"""A small convnet (Conv2D, MaxPooling2D, Flatten, Dropout) telling horizontal from vertical bars."""

from _support import bar_images, last

EXPECT = {"accuracy": ("at_least", 0.8), "test_accuracy": ("at_least", 0.85)}


def main(keras):
    keras.utils.set_random_seed(10)
    x, y = bar_images(320, size=12, seed=10)
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(8, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:256], y[:256], batch_size=32, epochs=3, verbose=0)
    _, test_accuracy = model.evaluate(x[256:], y[256:], verbose=0)
    return {"accuracy": last(history, "accuracy"), "test_accuracy": float(test_accuracy)}
