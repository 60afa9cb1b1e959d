"""W2 ``mnist_cnn``: the seed CNN, Adadelta(learning_rate=1.0), categorical cross-entropy, batch 128.

Conv2D 32 3x3 relu -> Conv2D 64 3x3 relu -> MaxPooling 2x2 -> Dropout 0.25 -> Flatten -> Dense 128 relu ->
Dropout 0.5 -> Dense 10 softmax, on synthetic 28x28x1 images (channels_last for Ember and Keras; PyTorch gets the
same pixels as NCHW, converted once before timing). PyTorch: the same layers ending in logits with
``CrossEntropyLoss``, ``Adadelta(lr=1.0, rho=0.95, eps=1e-7)``; the first Dense kernel's rows are permuted from
Keras' (h, w, c) flatten order to PyTorch's (c, h, w) so both start from the same function.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import conv_weights, dense_weights

NAME = "mnist_cnn"
BATCH = 128
CHUNK_BATCHES = 6
SEED = 2


def make_data(rows: int = BATCH * CHUNK_BATCHES):
    rng = np.random.default_rng(SEED)
    x = rng.random((rows, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, rows)]
    return x, y


def initial_weights():
    rng = np.random.default_rng(SEED + 1)
    return (
        conv_weights(rng, 3, 3, 1, 32)
        + conv_weights(rng, 3, 3, 32, 64)
        + dense_weights(rng, 12 * 12 * 64, 128)
        + dense_weights(rng, 128, 10)
    )


def build_keras_like(keras):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adadelta(learning_rate=1.0),
        metrics=["accuracy"],
    )
    return model


def build_torch(weights):
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(12 * 12 * 64, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )
    dense1 = weights[4].reshape(12, 12, 64, 128).transpose(2, 0, 1, 3).reshape(-1, 128)
    torch_weights = [
        weights[0].transpose(3, 2, 0, 1),
        weights[1],
        weights[2].transpose(3, 2, 0, 1),
        weights[3],
        dense1.T,
        weights[5],
        weights[6].T,
        weights[7],
    ]
    with torch.no_grad():
        for param, value in zip(model.parameters(), torch_weights):
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)

    def prepare(x, y):
        labels = torch.from_numpy(y.argmax(1))
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), labels, labels

    return model, optimizer, nn.CrossEntropyLoss(), prepare


def torch_correct(out, labels):
    return (out.argmax(1) == labels).sum()
