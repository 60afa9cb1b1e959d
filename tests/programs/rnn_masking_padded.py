"""Variable-length sequences padded with pad_sequences, Embedding(mask_zero=True) + GRU: padding is ignored."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "padding_invariant": ("equal",)}


def main(keras):
    rng = np.random.RandomState(25)
    lengths = rng.randint(2, 9, size=120)
    seqs = [list(rng.randint(1, 15, size=n)) for n in lengths]
    y = np.array([float(np.mean(s) > 7.5) for s in seqs], dtype="float32")
    x = keras.utils.pad_sequences(seqs, maxlen=10, padding="post")
    model = keras.Sequential(
        [
            keras.Input((None,)),
            keras.layers.Embedding(15, 8, mask_zero=True),
            keras.layers.GRU(8),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    deterministic_init(model, seed=26)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0)
    longer = np.concatenate([x[:4], np.zeros((4, 5), dtype=x.dtype)], axis=1)
    same = np.allclose(model.predict(x[:4], verbose=0), model.predict(longer, verbose=0), atol=1e-6)
    return {"loss": float(history.history["loss"][-1]), "padding_invariant": bool(same)}
