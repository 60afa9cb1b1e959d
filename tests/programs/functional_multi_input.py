"""Two inputs (numeric features and a categorical id through an Embedding), concatenated, from identical weights."""

import numpy as np
from _support import deterministic_init, last

EXPECT = {"loss": ("same", 2e-4), "accuracy": ("same", 1e-6), "val_loss": ("same", 2e-4)}


def main(keras):
    rng = np.random.RandomState(40)
    numeric = rng.normal(size=(200, 4)).astype("float32")
    category = rng.randint(0, 6, size=(200, 1))
    y = ((numeric[:, 0] > 0) ^ (category[:, 0] % 2 == 0)).astype("float32")
    num_in = keras.Input(shape=(4,), name="numeric")
    cat_in = keras.Input(shape=(1,), name="category", dtype="int32")
    emb = keras.layers.Flatten()(keras.layers.Embedding(6, 3)(cat_in))
    h = keras.layers.concatenate([num_in, emb])
    h = keras.layers.Dense(16, activation="relu")(h)
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    model = keras.Model(inputs=[num_in, cat_in], outputs=out)
    deterministic_init(model, seed=41)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        {"numeric": numeric[:160], "category": category[:160]},
        y[:160],
        validation_data=([numeric[160:], category[160:]], y[160:]),
        batch_size=16,
        epochs=3,
        shuffle=False,
        verbose=0,
    )
    return {k: last(history, k) for k in EXPECT}
