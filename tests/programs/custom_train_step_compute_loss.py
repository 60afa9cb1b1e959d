"""Overriding train_step as keras.io's "Customizing what happens in fit()" does it for torch:
self.zero_grad(), self.compute_loss(...), loss.backward(), optimizer.apply, and the metrics of self.metrics."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "mae": ("same", 2e-4), "eval_loss": ("same", 2e-4), "metric_names": ("equal",)}


def main(keras):
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    rng = np.random.RandomState(56)
    x = rng.normal(size=(160, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]])).astype("float32")
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(8, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    deterministic_init(model, seed=57)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    eval_loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    return {
        "loss": float(history.history["loss"][-1]),
        "mae": float(history.history["mae"][-1]),
        "eval_loss": float(eval_loss),
        "metric_names": sorted(history.history),
    }
