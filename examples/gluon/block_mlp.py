# ruff: noqa: N802, N803, N806, UP031, E402, I001  (the seed's MXNet code as written: its names, % formats, path setup)
"""The seed's ``gluon.Block`` MLP: three Dense layers under name_scope, nd.relu in forward, trained with
SoftmaxCrossEntropyLoss and gluon.Trainer('sgd'); accuracy with mx.metric.Accuracy. MXNet code; only the
import lines changed. Full run (10 epochs, 60,000 points, 5 s): test accuracy 0.977; quick: 0.968."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _data import three_classes

import ember.mxnet as mx  # was: import mxnet as mx
from ember.mxnet import autograd, gluon, nd  # was: from mxnet import autograd, gluon, nd


class MLP(gluon.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense0 = gluon.nn.Dense(64)  # architecture of 1st layer (hidden)
            self.dense1 = gluon.nn.Dense(64)  # architecture of 2nd layer (hidden)
            self.dense2 = gluon.nn.Dense(3)  # architecture of 3rd layer (output)

    def forward(self, x):
        x = nd.relu(self.dense0(x))
        x = nd.relu(self.dense1(x))
        return self.dense2(x)


def AccuracyEvaluation(iterator, net, ModelCtx):
    acc = mx.metric.Accuracy()
    for data, label in iterator:
        data = data.as_in_context(ModelCtx).reshape((-1, 3))
        label = label.as_in_context(ModelCtx)
        predictions = nd.argmax(net(data), axis=1)
        acc.update(preds=predictions, labels=label)
    return acc.get()[1]


def main(quick=False, out="."):
    ModelCtx = mx.cpu()
    n, ne = (20_000, 3) if quick else (60_000, 10)
    BatchSize, lr = 64, 0.1
    X, Y = three_classes(n, seed=1)
    split = int(n * 0.8)
    train_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[:split], Y[:split]), BatchSize, shuffle=True)
    test_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[split:], Y[split:]), BatchSize)
    mx.random.seed(1)
    np.random.seed(1)  # DataLoader(shuffle=True) draws from NumPy, in MXNet too
    net = MLP()
    net.collect_params().initialize(mx.init.Normal(sigma=0.1), ctx=ModelCtx)
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    for e in range(ne):
        cumulative_loss = 0
        for data, label in train_data:
            with autograd.record():
                loss = softmax_cross_entropy(net(data.as_in_context(ModelCtx)), label.as_in_context(ModelCtx))
            loss.backward()
            trainer.step(data.shape[0])
            cumulative_loss += nd.sum(loss).asscalar()
        test_accuracy = AccuracyEvaluation(test_data, net, ModelCtx)
        print("Epoch %s. Loss: %.4f, Test_acc %.4f" % (e, cumulative_loss / split, test_accuracy))
    return {"loss": float(cumulative_loss / split), "test_accuracy": float(test_accuracy)}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
