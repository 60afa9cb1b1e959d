"""One-hot targets with to_categorical, categorical cross-entropy and a top-k metric."""

from _support import blobs, last

EXPECT = {"accuracy": ("at_least", 0.8), "top2": ("at_least", 0.9), "test_accuracy": ("at_least", 0.8)}


def main(keras):
    keras.utils.set_random_seed(6)
    x, labels = blobs(500, d=12, k=6, seed=6, spread=1.5)
    y = keras.utils.to_categorical(labels, num_classes=6)
    model = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(48, activation="relu"), keras.layers.Dense(6, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.Nadam(1e-2),
        loss="categorical_crossentropy",
        metrics=["accuracy", keras.metrics.TopKCategoricalAccuracy(k=2, name="top2")],
    )
    history = model.fit(x[:400], y[:400], batch_size=25, epochs=6, verbose=0)
    results = model.evaluate(x[400:], y[400:], verbose=0, return_dict=True)
    return {
        "accuracy": last(history, "accuracy"),
        "top2": last(history, "top2"),
        "test_accuracy": float(results["accuracy"]),
    }
