# ruff: noqa: N802, N803, N806, UP031, E402, I001  (the seed's MXNet code as written: its names, % formats, path setup)
"""The seed's raw-NDArray MLP (seed 003, MXNet section): parameters from nd.random_normal with attach_grad,
softmax by hand with nd.nansum(exclude=True), cross-entropy on one_hot labels, and the seed's SGD
``param[:] = param - lr * param.grad``. MXNet code; only the import line changed.

Settings (full run): 3 features, 256 hidden units, weights N(0, 0.01^2), lr 0.001 on the batch's summed loss (MXNet's
backward of a vector loss), batch 64. Full run (10 epochs on 60,000 points, about a minute): test accuracy
0.973; quick run: about 0.92.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _data import three_classes

import ember.mxnet as mx  # was: import mxnet as mx
from ember.mxnet import autograd, gluon, nd  # was: from mxnet import autograd, gluon, nd


def main(quick=False, out="."):
    ModelCtx = mx.cpu()
    # quick: a slice and a 10x larger step, so a few seconds show learning; the full run is the seed's
    n, ne, lr = (8_000, 3, 0.01) if quick else (60_000, 10, 0.001)
    nf, nhn, no, WeightScale, BatchSize = 3, 256, 3, 0.01, 64
    X, Y = three_classes(n)
    split = int(n * 0.8)
    train_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[:split], Y[:split]), BatchSize, shuffle=True)
    test_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[split:], Y[split:]), BatchSize, shuffle=False)

    mx.random.seed(0)
    np.random.seed(0)  # DataLoader(shuffle=True) draws from NumPy, in MXNet too
    W1 = nd.random_normal(shape=(nf, nhn), scale=WeightScale, ctx=ModelCtx)
    b1 = nd.random_normal(shape=nhn, scale=WeightScale, ctx=ModelCtx)
    W2 = nd.random_normal(shape=(nhn, nhn), scale=WeightScale, ctx=ModelCtx)
    b2 = nd.random_normal(shape=nhn, scale=WeightScale, ctx=ModelCtx)
    W3 = nd.random_normal(shape=(nhn, no), scale=WeightScale, ctx=ModelCtx)
    b3 = nd.random_normal(shape=no, scale=WeightScale, ctx=ModelCtx)
    params = [W1, b1, W2, b2, W3, b3]
    for param in params:
        param.attach_grad()

    def relu(X):
        return nd.maximum(X, nd.zeros_like(X))

    def softmax_cross_entropy(yhat_linear, y):
        return -nd.nansum(y * nd.log_softmax(yhat_linear), axis=0, exclude=True)

    def net(X):
        h1 = relu(nd.dot(X, W1) + b1)
        h2 = relu(nd.dot(h1, W2) + b2)
        return nd.dot(h2, W3) + b3

    def SGD(params, lr):
        for param in params:
            param[:] = param - lr * param.grad

    def evaluate_accuracy(data_iterator, net):
        numerator, denominator = 0.0, 0.0
        for data, label in data_iterator:
            data = data.as_in_context(ModelCtx).reshape((-1, nf))
            label = label.as_in_context(ModelCtx)
            predictions = nd.argmax(net(data), axis=1)
            numerator += nd.sum(predictions == label)
            denominator += data.shape[0]
        return (numerator / denominator).asscalar()

    losses = []
    for e in range(ne):
        cumulative_loss = 0
        for data, label in train_data:
            data = data.as_in_context(ModelCtx).reshape((-1, nf))
            label_one_hot = nd.one_hot(label.as_in_context(ModelCtx), no)
            with autograd.record():
                loss = softmax_cross_entropy(net(data), label_one_hot)
            loss.backward()
            SGD(params, lr)
            cumulative_loss += nd.sum(loss).asscalar()
        losses.append(cumulative_loss / split)
        test_accuracy = evaluate_accuracy(test_data, net)
        print("Epoch %s. Loss: %.4f, Test_acc %.4f" % (e, losses[-1], test_accuracy))
    return {"loss": float(losses[-1]), "first_loss": float(losses[0]), "test_accuracy": float(test_accuracy)}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
