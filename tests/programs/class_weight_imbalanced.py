"""An imbalanced binary task trained with class_weight (the minority class counts 5x), same weights,
plus Precision and Recall metrics."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "recall": ("same", 1e-5), "precision": ("same", 1e-5)}


def main(keras):
    rng = np.random.RandomState(92)
    x = rng.normal(size=(300, 5)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 1.3).astype("float32")
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
    )
    deterministic_init(model, seed=93)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="binary_crossentropy",
        metrics=[keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")],
    )
    history = model.fit(x, y, class_weight={0: 1.0, 1: 5.0}, batch_size=30, epochs=3, shuffle=False, verbose=0)
    return {k: float(history.history[k][-1]) for k in EXPECT}
