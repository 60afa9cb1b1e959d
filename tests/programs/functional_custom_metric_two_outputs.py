"""A custom metric function and a Metric subclass on a two-output model (per-output metric lists)."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "a_rmse": ("same", 2e-4), "b_peak": ("same", 2e-4), "eval_a_rmse": ("same", 2e-4)}


def main(keras):
    ops = keras.ops

    def rmse(y_true, y_pred):
        return ops.sqrt(ops.mean(ops.square(y_true - y_pred), axis=-1))

    class Peak(keras.metrics.Metric):
        """The largest prediction seen."""

        def __init__(self, name="peak", **kwargs):
            super().__init__(name=name, **kwargs)
            self.peak = self.add_variable(shape=(), initializer="zeros", name="peak")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.peak.assign(ops.maximum(self.peak, ops.max(y_pred)))

        def result(self):
            return self.peak

        def reset_state(self):
            self.peak.assign(0.0)

    rng = np.random.RandomState(44)
    x = rng.normal(size=(120, 3)).astype("float32")
    ya = x.sum(axis=1, keepdims=True).astype("float32")
    yb = (x[:, :1] > 0).astype("float32")
    inputs = keras.Input((3,))
    h = keras.layers.Dense(8, activation="relu")(inputs)
    a = keras.layers.Dense(1, name="a")(h)
    b = keras.layers.Dense(1, activation="sigmoid", name="b")(h)
    model = keras.Model(inputs, [a, b])
    deterministic_init(model, seed=45)
    model.compile(optimizer="adam", loss=["mse", "binary_crossentropy"], metrics=[[rmse], [Peak()]])
    history = model.fit(x, [ya, yb], batch_size=20, epochs=2, shuffle=False, verbose=0)
    result = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    return {
        "loss": float(history.history["loss"][-1]),
        "a_rmse": float(history.history["a_rmse"][-1]),
        "b_peak": float(history.history["b_peak"][-1]),
        "eval_a_rmse": float(result["a_rmse"]),
    }
