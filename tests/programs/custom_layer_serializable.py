"""A registered custom layer with get_config, saved to .keras and loaded back (custom_objects and registry)."""

import numpy as np

EXPECT = {"max_diff": ("at_most", 1e-6), "units": ("equal",), "loss": ("at_most", 1.0)}


def main(keras):
    @keras.saving.register_keras_serializable(package="corpus")
    class Gated(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.proj = keras.layers.Dense(units)
            self.gate = keras.layers.Dense(units, activation="sigmoid")

        def call(self, x):
            return self.proj(x) * self.gate(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    keras.utils.set_random_seed(53)
    rng = np.random.RandomState(53)
    x = rng.normal(size=(100, 5)).astype("float32")
    y = np.tanh(x[:, :2]).astype("float32")
    model = keras.Sequential([keras.Input((5,)), Gated(6), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=2, batch_size=20, verbose=0)
    model.save("gated.keras")
    restored = keras.models.load_model("gated.keras", custom_objects={"Gated": Gated})
    diff = np.abs(restored.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    return {"max_diff": float(diff), "units": restored.layers[0].units, "loss": float(history.history["loss"][-1])}
