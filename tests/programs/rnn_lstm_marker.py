"""Embedding + LSTM classifying token sequences (does the marker appear?), RMSprop."""

from _support import last, token_sequences

EXPECT = {"accuracy": ("at_least", 0.75), "test_accuracy": ("at_least", 0.75)}


def main(keras):
    keras.utils.set_random_seed(20)
    x, y = token_sequences(400, length=10, vocab=20, seed=20)
    model = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Embedding(input_dim=20, output_dim=16),
            keras.layers.LSTM(16),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:320], y[:320], batch_size=32, epochs=6, verbose=0)
    _, test_accuracy = model.evaluate(x[320:], y[320:], verbose=0)
    return {"accuracy": last(history, "accuracy"), "test_accuracy": float(test_accuracy)}
