"""Two heads (regression and classification) with dict losses, loss_weights and per-output metrics."""

import numpy as np
from _support import deterministic_init

EXPECT = {
    "loss": ("same", 2e-4),
    "price_loss": ("same", 2e-4),
    "kind_loss": ("same", 2e-4),
    "price_mae": ("same", 2e-4),
    "kind_accuracy": ("same", 1e-6),
    "val_loss": ("same", 2e-4),
    "eval_loss": ("same", 2e-4),
}


def main(keras):
    rng = np.random.RandomState(42)
    x = rng.normal(size=(200, 6)).astype("float32")
    price = (x[:, :2].sum(axis=1, keepdims=True) * 2).astype("float32")
    kind = (x[:, 2] > 0).astype("int64") + (x[:, 3] > 1).astype("int64")
    inputs = keras.Input((6,), name="features")
    trunk = keras.layers.Dense(24, activation="relu")(inputs)
    price_out = keras.layers.Dense(1, name="price")(trunk)
    kind_out = keras.layers.Dense(3, activation="softmax", name="kind")(trunk)
    model = keras.Model(inputs, [price_out, kind_out])
    deterministic_init(model, seed=43)
    model.compile(
        optimizer=keras.optimizers.Adam(5e-3),
        loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
        loss_weights={"price": 0.5, "kind": 1.0},
        metrics={"price": ["mae"], "kind": ["accuracy"]},
    )
    history = model.fit(
        x[:160],
        {"price": price[:160], "kind": kind[:160]},
        batch_size=20,
        epochs=3,
        validation_data=(x[160:], [price[160:], kind[160:]]),
        shuffle=False,
        verbose=0,
    )
    result = model.evaluate(x[160:], {"price": price[160:], "kind": kind[160:]}, verbose=0, return_dict=True)
    out = {k: float(history.history[k][-1]) for k in EXPECT if k not in ("eval_loss",)}
    out["eval_loss"] = float(result["loss"])
    return out
