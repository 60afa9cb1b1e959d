"""The same small network trained by five optimizers from identical weights: each update rule, step by step."""

import numpy as np
from _support import deterministic_init

EXPECT = {name: ("same", 2e-4) for name in ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam")}


def main(keras):
    rng = np.random.RandomState(7)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (np.abs(x).sum(axis=1, keepdims=True) > 3).astype("float32")
    out = {}
    for name, opt in (
        ("sgd", keras.optimizers.SGD(0.1, nesterov=True, momentum=0.5)),
        ("adam", keras.optimizers.Adam(1e-2, amsgrad=True)),
        ("rmsprop", keras.optimizers.RMSprop(1e-2, momentum=0.1)),
        ("adagrad", keras.optimizers.Adagrad(0.05)),
        ("adamw", keras.optimizers.AdamW(1e-2, weight_decay=0.05)),
        ("nadam", keras.optimizers.Nadam(1e-2)),
    ):
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
        )
        deterministic_init(model, seed=8)
        model.compile(optimizer=opt, loss="binary_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        out[name] = float(history.history["loss"][-1])
    return out
