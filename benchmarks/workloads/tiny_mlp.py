"""W4 ``tiny_mlp``: the transfusion model 4 -> Dense 8 relu -> Dense 6 relu -> Dense 1 sigmoid, Adam, batch 8.

Measures per-step overhead: the arithmetic is negligible. Synthetic transfusion-shaped data (748 rows of
recency, frequency, monetary, time on their real scales, a binary label); weights ``init='uniform'``
(uniform in [-0.05, 0.05]) as in the seed. A chunk is one epoch of the 748 rows rounded down to whole batches.
PyTorch: logits with ``BCEWithLogitsLoss``, ``Adam(lr=1e-3, eps=1e-7)``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import dense_weights

NAME = "tiny_mlp"
BATCH = 8
CHUNK_BATCHES = 93
SEED = 4


def make_data(rows: int = BATCH * CHUNK_BATCHES):
    rng = np.random.default_rng(SEED)
    x = np.stack(
        [
            rng.integers(0, 75, rows),
            rng.integers(1, 51, rows),
            rng.integers(1, 51, rows) * 250,
            rng.integers(2, 99, rows),
        ],
        axis=1,
    ).astype(np.float32)
    y = (rng.random(rows) < 0.24).astype(np.float32)
    return x, y


def initial_weights():
    rng = np.random.default_rng(SEED + 1)
    return (
        dense_weights(rng, 4, 8, init="uniform")
        + dense_weights(rng, 8, 6, init="uniform")
        + dense_weights(rng, 6, 1, init="uniform")
    )


def build_keras_like(keras):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_torch(weights):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 1))
    with torch.no_grad():
        for i, linear in enumerate((model[0], model[2], model[4])):
            linear.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def prepare(x, y):
        target = torch.from_numpy(y).reshape(-1, 1)
        return torch.from_numpy(x), target, target

    return model, optimizer, nn.BCEWithLogitsLoss(), prepare


def torch_correct(out, target):
    return ((out > 0).float() == target).sum()
