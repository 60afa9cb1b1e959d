"""A subclassed Model with layers made in __init__, call(training=...) and Dropout, trained with fit."""

from _support import blobs, last

EXPECT = {"accuracy": ("at_least", 0.9), "test_accuracy": ("at_least", 0.9), "n_trainable": ("equal",)}


def main(keras):
    class Classifier(keras.Model):
        def __init__(self, num_classes, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(32, activation="relu")
            self.dropout = keras.layers.Dropout(0.3)
            self.out = keras.layers.Dense(num_classes, activation="softmax")

        def call(self, inputs, training=False):
            return self.out(self.dropout(self.hidden(inputs), training=training))

    keras.utils.set_random_seed(50)
    x, y = blobs(400, d=6, k=3, seed=50)
    model = Classifier(3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:320], y[:320], batch_size=32, epochs=4, verbose=0)
    _, test_accuracy = model.evaluate(x[320:], y[320:], verbose=0)
    return {
        "accuracy": last(history, "accuracy"),
        "test_accuracy": float(test_accuracy),
        "n_trainable": len(model.trainable_weights),
    }
