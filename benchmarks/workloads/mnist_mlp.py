"""W1 ``mnist_mlp``: 784 -> Dense 512 relu -> Dense 10 softmax, RMSprop, categorical cross-entropy, batch 128.

Synthetic MNIST-shaped data: pixels uniform in [0, 1), one-hot labels of uniform random classes.
PyTorch: the same layers ending in logits with ``CrossEntropyLoss`` (softmax + cross-entropy in one, as a
PyTorch user writes it), ``RMSprop(lr=1e-3, alpha=0.9, eps=1e-7)`` (Keras' defaults).
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import dense_weights

NAME = "mnist_mlp"
BATCH = 128
CHUNK_BATCHES = 40
SEED = 1


def make_data(rows: int = BATCH * CHUNK_BATCHES):
    rng = np.random.default_rng(SEED)
    x = rng.random((rows, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, rows)]
    return x, y


def initial_weights():
    rng = np.random.default_rng(SEED + 1)
    return dense_weights(rng, 784, 512) + dense_weights(rng, 512, 10)


def build_keras_like(keras):
    """The model in Ember or Keras 3 (the same code runs on both)."""
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.RMSprop(), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_torch(weights):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    with torch.no_grad():
        for linear, (kernel, bias) in zip((model[0], model[2]), (weights[0:2], weights[2:4])):
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)

    def prepare(x, y):
        labels = torch.from_numpy(y.argmax(1))
        return torch.from_numpy(x), labels, labels

    return model, optimizer, nn.CrossEntropyLoss(), prepare


def torch_correct(out, labels):
    return (out.argmax(1) == labels).sum()
