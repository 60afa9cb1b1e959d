"""A lower-level custom train_step and test_step: own loss function, Mean/MAE trackers listed in `metrics`."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "mae": ("same", 2e-4), "val_loss": ("same", 2e-4), "keys": ("equal",)}


def main(keras):
    loss_fn = keras.losses.MeanSquaredError()

    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = loss_fn(y, y_pred)
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply([v.value.grad for v in weights], weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            self.loss_tracker.update_state(loss_fn(y, y_pred))
            self.mae_metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class Net(CustomModel):
        def __init__(self):
            super().__init__()
            self.d1 = keras.layers.Dense(8, activation="tanh")
            self.d2 = keras.layers.Dense(1)

        def call(self, x):
            return self.d2(self.d1(x))

    rng = np.random.RandomState(58)
    x = rng.normal(size=(160, 3)).astype("float32")
    y = np.sin(x[:, :1]) + x[:, 1:2]
    model = Net()
    model(x[:2])
    deterministic_init(model, seed=59)
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(
        x[:128], y[:128], validation_data=(x[128:], y[128:]), batch_size=16, epochs=3, shuffle=False, verbose=0
    )
    return {
        "loss": float(history.history["loss"][-1]),
        "mae": float(history.history["mae"][-1]),
        "val_loss": float(history.history["val_loss"][-1]),
        "keys": sorted(history.history),
    }
