"""The seed's raw-array MLP (seed 003, MXNet section) with the seed's own settings, on Ember's engine.

Three layers from raw parameters (256 hidden units, ReLU), weights *and biases* drawn from N(0, 0.01^2),
softmax cross-entropy per sample, and the seed's training loop: the per-sample losses are summed over the
batch before ``backward()`` (what MXNet's ``loss.backward()`` does on a vector), then plain SGD with
lr = 0.001, batch 64, 10 epochs. The data is the seed's kind of 3-class problem: 3 features, the class
given by the point's distance from the origin (not linearly separable), 60,000 points, 80% for training.
Full run: test accuracy about 0.98.
"""

from __future__ import annotations

import numpy as np

import ember


def three_class_data(n: int, seed: int = 0):
    """``(x, y)``: x (n, 3) float32 from N(0, 1); y in {0, 1, 2} by radius (< 1.2, < 1.9, beyond)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = np.digitize(np.sqrt((x**2).sum(axis=1)), [1.2, 1.9])
    return x, y


def main(quick: bool = False, out: str = ".") -> dict:
    n, epochs = (60_000, 2) if quick else (60_000, 10)
    nf, nhn, no, scale, lr, batch = 3, 256, 3, 0.01, 0.001, 64
    x, y = three_class_data(n)
    split = int(n * 0.8)
    x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

    ember.random.seed(0)
    shapes = [(nf, nhn), (nhn,), (nhn, nhn), (nhn,), (nhn, no), (no,)]
    params = [ember.random.normal(shape, stddev=scale).requires_grad_() for shape in shapes]
    w1, b1, w2, b2, w3, b3 = params

    def net(inputs):
        h1 = ember.relu(inputs @ w1 + b1)
        h2 = ember.relu(h1 @ w2 + b2)
        return h2 @ w3 + b3

    def accuracy(inputs, labels):
        with ember.no_grad():
            return float((net(ember.tensor(inputs)).numpy().argmax(axis=1) == labels).mean())

    onehot = np.eye(no, dtype="float32")
    history = []
    for epoch in range(epochs):
        total = 0.0
        for i in range(0, split, batch):
            data, label = ember.tensor(x_train[i : i + batch]), ember.tensor(onehot[y_train[i : i + batch]])
            per_sample = -(label * ember.log_softmax(net(data), axis=-1)).sum(axis=-1)
            loss = per_sample.sum()  # MXNet's backward() of a vector loss: the sum over the batch
            loss.backward()
            with ember.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            total += loss.item()
        history.append((total / split, accuracy(x_train, y_train), accuracy(x_test, y_test)))
        loss_value, train_acc, test_acc = history[-1]
        print(f"Epoch {epoch}. Loss: {loss_value:.4f}, Train_acc {train_acc:.4f}, Test_acc {test_acc:.4f}")
    return {"loss": history[-1][0], "train_accuracy": history[-1][1], "test_accuracy": history[-1][2]}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
