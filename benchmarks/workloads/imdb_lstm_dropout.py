"""W3 with the seed's dropout, ``imdb_lstm_dropout``: Embedding 20000x128 -> LSTM 128 (dropout=0.2,
recurrent_dropout=0.2) -> Dense 1 sigmoid, Adam, binary cross-entropy, batch 32, length 80.

The IMDB seed program's model as written (W3 drops its dropouts). Ember against Keras 3 (torch backend) only:
PyTorch's ``nn.LSTM`` has no recurrent dropout, so there is no idiomatic PyTorch model to time (``FRAMEWORKS``
tells ``run.py`` to skip it). Same synthetic data and initial weights as W3. Inference (``predict``) runs without
dropout, so its figures measure the same forward as W3's.
"""

from __future__ import annotations

from benchmarks.workloads.imdb_lstm import BATCH, CHUNK_BATCHES, MAX_FEATURES, MAXLEN, UNITS, initial_weights, make_data

NAME = "imdb_lstm_dropout"
FRAMEWORKS = ("ember", "keras")  # no PyTorch counterpart (see above)
DROPOUT = 0.2
RECURRENT_DROPOUT = 0.2

__all__ = ["NAME", "FRAMEWORKS", "BATCH", "CHUNK_BATCHES", "make_data", "initial_weights", "build_keras_like"]


def build_keras_like(keras):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((MAXLEN,), dtype="int32"),
            layers.Embedding(MAX_FEATURES, 128),
            layers.LSTM(UNITS, dropout=DROPOUT, recurrent_dropout=RECURRENT_DROPOUT),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(), metrics=["accuracy"])
    return model
