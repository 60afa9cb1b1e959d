# ruff: noqa: N802, N803, N806, UP031, E402, I001  (the seed's MXNet code as written: its names, % formats, path setup)
"""The seed's ``gluon.nn.Sequential`` classifier: Dense(nhn, relu) x 2 + Dense(3) under name_scope, Normal(0.1)
initialization, SoftmaxCrossEntropyLoss, Trainer(net.collect_params(), 'sgd', {'learning_rate': lr}) and
mx.metric.Accuracy. MXNet code; only the import lines changed. Full run (7 s): test accuracy 0.982; quick: 0.954."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _data import three_classes

import ember.mxnet as mx  # was: import mxnet as mx
from ember.mxnet import autograd, gluon, nd  # was: from mxnet import autograd, gluon, nd


def main(quick=False, out="."):
    n, ne = (20_000, 3) if quick else (60_000, 10)
    nhn, af, sigma, lr, oa, BatchSize = 64, "relu", 0.1, 0.1, "sgd", 64
    ModelCtx = mx.cpu()
    X, Y = three_classes(n, seed=2)
    ns = int(n * 0.8)
    train_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[:ns], Y[:ns]), BatchSize, shuffle=True)
    test_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[ns:], Y[ns:]), BatchSize)

    mx.random.seed(2)
    np.random.seed(2)  # DataLoader(shuffle=True) draws from NumPy, in MXNet too
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(nhn, activation=af))
        net.add(gluon.nn.Dense(nhn, activation=af))
        net.add(gluon.nn.Dense(3))
    net.collect_params().initialize(mx.init.Normal(sigma=sigma), ctx=ModelCtx)
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), oa, {"learning_rate": lr})

    def AccuracyEvaluation(iterator, net):
        acc = mx.metric.Accuracy()
        for data, label in iterator:
            data = data.as_in_context(ModelCtx).reshape((-1, 3))
            label = label.as_in_context(ModelCtx)
            predictions = nd.argmax(net(data), axis=1)
            acc.update(preds=predictions, labels=label)
        return acc.get()

    for e in range(ne):
        cumulative_loss = 0
        for data, label in train_data:
            data = data.as_in_context(ModelCtx).reshape((-1, 3))
            label = label.as_in_context(ModelCtx)
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            cumulative_loss += nd.sum(loss).asscalar()
        train_accuracy = AccuracyEvaluation(train_data, net)[1]
        test_accuracy = AccuracyEvaluation(test_data, net)[1]
        print(
            "Epoch %s. Loss: %.4f, Train_acc %.4f, Test_acc %.4f"
            % (e, cumulative_loss / ns, train_accuracy, test_accuracy)
        )
    return {
        "loss": float(cumulative_loss / ns),
        "train_accuracy": float(train_accuracy),
        "test_accuracy": float(test_accuracy),
    }


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
