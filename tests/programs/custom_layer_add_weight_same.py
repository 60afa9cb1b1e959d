"""A custom layer that creates its weights with add_weight in build(), in a subclassed model, same weights."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "pred": ("same", 2e-4), "n_weights": ("equal",), "non_trainable": ("equal",)}


def main(keras):
    class ScaledLinear(keras.layers.Layer):
        """y = scale * (x @ w + b), with a frozen scale."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True, name="kernel"
            )
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")
            self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")

        def call(self, inputs):
            return self.scale * (keras.ops.matmul(inputs, self.w) + self.b)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.l1 = ScaledLinear(8)
            self.l2 = ScaledLinear(1)

        def call(self, x):
            return self.l2(keras.ops.relu(self.l1(x)))

    rng = np.random.RandomState(51)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = (x[:, :1] - 2 * x[:, 1:2]).astype("float32")
    model = Net()
    model(x[:2])
    deterministic_init(model, seed=52)
    model.l1.scale.assign(1.5)
    model.l2.scale.assign(1.0)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(x, y, batch_size=12, epochs=2, shuffle=False, verbose=0)
    return {
        "loss": float(history.history["loss"][-1]),
        "pred": float(model.predict(x[:3], verbose=0).sum()),
        "n_weights": len(model.weights),
        "non_trainable": len(model.non_trainable_weights),
    }
