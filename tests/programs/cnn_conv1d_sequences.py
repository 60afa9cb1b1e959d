"""Conv1D + GlobalMaxPooling1D over embedded token sequences: does the marker token appear?"""

from _support import last, token_sequences

EXPECT = {"accuracy": ("at_least", 0.85), "val_accuracy": ("at_least", 0.85)}


def main(keras):
    keras.utils.set_random_seed(13)
    x, y = token_sequences(400, length=16, vocab=30, seed=13)
    model = keras.Sequential(
        [
            keras.Input(shape=(16,), dtype="int64"),
            keras.layers.Embedding(30, 8),
            keras.layers.Conv1D(16, 3, activation="relu"),
            keras.layers.GlobalMaxPooling1D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.25, verbose=0)
    return {k: last(history, k) for k in EXPECT}
