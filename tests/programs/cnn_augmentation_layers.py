"""Data augmentation layers (RandomFlip, RandomTranslation) and Rescaling in front of a convnet."""

from _support import bar_images, last

EXPECT = {"accuracy": ("at_least", 0.75), "test_accuracy": ("at_least", 0.8)}


def main(keras):
    keras.utils.set_random_seed(14)
    x, y = bar_images(320, size=12, seed=14)
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.1, 0.1)])
    inputs = keras.Input(shape=(12, 12, 1))
    h = augment(inputs)
    h = keras.layers.Rescaling(2.0, offset=-0.5)(h)
    h = keras.layers.Conv2D(8, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:256], y[:256], batch_size=32, epochs=4, verbose=0)
    _, test_accuracy = model.evaluate(x[256:], y[256:], verbose=0)
    return {"accuracy": last(history, "accuracy"), "test_accuracy": float(test_accuracy)}
