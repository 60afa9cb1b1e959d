"""W3 ``imdb_lstm``: Embedding 20000x128 -> LSTM 128 -> Dense 1 sigmoid, Adam, binary cross-entropy, batch 32.

Synthetic IMDB-shaped data: 80 token ids per review, uniform in [1, 20000), binary labels. The LSTM has no
dropout (the issue's definition; the seed's ``dropout=0.2, recurrent_dropout=0.2`` have no cuDNN/PyTorch
``nn.LSTM`` counterpart). PyTorch: ``nn.Embedding`` (dense gradient, its default), ``nn.LSTM(batch_first=True)``
with Keras' kernel/recurrent kernel transposed (same gate order i, f, g, o) and the bias in ``bias_ih``
(``bias_hh`` zero), the last hidden state into ``nn.Linear``, logits with ``BCEWithLogitsLoss``,
``Adam(lr=1e-3, eps=1e-7)``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import dense_weights, lstm_weights

NAME = "imdb_lstm"
BATCH = 32
CHUNK_BATCHES = 12
SEED = 3
MAX_FEATURES = 20000
MAXLEN = 80
UNITS = 128


def make_data(rows: int = BATCH * CHUNK_BATCHES):
    rng = np.random.default_rng(SEED)
    x = rng.integers(1, MAX_FEATURES, size=(rows, MAXLEN)).astype(np.int32)
    y = (rng.random(rows) < 0.5).astype(np.float32)
    return x, y


def initial_weights():
    rng = np.random.default_rng(SEED + 1)
    embeddings = rng.uniform(-0.05, 0.05, size=(MAX_FEATURES, 128)).astype(np.float32)
    return [embeddings] + lstm_weights(rng, 128, UNITS) + dense_weights(rng, UNITS, 1)


def build_keras_like(keras):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((MAXLEN,), dtype="int32"),
            layers.Embedding(MAX_FEATURES, 128),
            layers.LSTM(UNITS),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(), metrics=["accuracy"])
    return model


def build_torch(weights):
    import torch
    from torch import nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(MAX_FEATURES, 128)
            self.lstm = nn.LSTM(128, UNITS, batch_first=True)
            self.dense = nn.Linear(UNITS, 1)

        def forward(self, tokens):
            _, (h, _) = self.lstm(self.embedding(tokens))
            return self.dense(h[-1])

    model = LSTMClassifier()
    embeddings, kernel, recurrent, bias, dense_kernel, dense_bias = weights
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(embeddings))
        model.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        model.lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
        model.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        model.lstm.bias_hh_l0.zero_()
        model.dense.weight.copy_(torch.from_numpy(dense_kernel.T.copy()))
        model.dense.bias.copy_(torch.from_numpy(dense_bias))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def prepare(x, y):
        target = torch.from_numpy(y).reshape(-1, 1)
        return torch.from_numpy(x.astype(np.int64)), target, target

    return model, optimizer, nn.BCEWithLogitsLoss(), prepare


def torch_correct(out, target):
    return ((out > 0).float() == target).sum()
