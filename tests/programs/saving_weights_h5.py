"""save_weights to .weights.h5 and load_weights into a freshly built functional model of the same shape."""

import numpy as np

EXPECT = {"pred_diff": ("at_most", 1e-6), "n_weights": ("equal",), "before_differs": ("equal",)}


def main(keras):
    def build():
        inputs = keras.Input((6,))
        h = keras.layers.Dense(10, activation="relu")(inputs)
        h = keras.layers.BatchNormalization()(h)
        return keras.Model(inputs, keras.layers.Dense(2)(h))

    keras.utils.set_random_seed(88)
    rng = np.random.RandomState(88)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    model = build()
    model.compile("rmsprop", "mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save_weights("trained.weights.h5")
    fresh = build()
    before = np.abs(fresh.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    fresh.load_weights("trained.weights.h5")
    diff = np.abs(fresh.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    return {"pred_diff": float(diff), "n_weights": len(fresh.weights), "before_differs": bool(before > 1e-3)}
