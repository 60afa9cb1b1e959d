"""Overriding test_step and predict_step (evaluate reports a custom metric, predict returns class ids)."""

import numpy as np
from _support import deterministic_init

EXPECT = {"eval_loss": ("same", 2e-4), "eval_hits": ("same", 1e-6), "pred_ids": ("equal",), "fit_loss": ("same", 2e-4)}


def main(keras):
    ops = keras.ops

    class Classifier(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(8, activation="relu")
            self.logits = keras.layers.Dense(3)
            self.hits = keras.metrics.Mean(name="hits")

        def call(self, x):
            return self.logits(self.hidden(x))

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            hits = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), ops.cast(y, "int64")), "float32")
            for metric in self.metrics:
                metric.update_state(loss if metric.name == "loss" else hits)
            return {m.name: m.result() for m in self.metrics}

        def predict_step(self, data):
            x = data[0] if isinstance(data, (tuple, list)) else data
            return ops.argmax(self(x, training=False), axis=-1)

    rng = np.random.RandomState(94)
    x = rng.normal(size=(90, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0).astype("int64")
    model = Classifier()
    model(x[:2])
    deterministic_init(model, seed=95)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(x, y, batch_size=90, epochs=3, shuffle=False, verbose=0)
    result = model.evaluate(x, y, batch_size=90, verbose=0, return_dict=True)
    ids = model.predict(x[:10], verbose=0)
    return {
        "eval_loss": float(result["loss"]),
        "eval_hits": float(result["hits"]),
        "pred_ids": [int(i) for i in np.asarray(ids)],
        "fit_loss": float(history.history["loss"][-1]),
    }
