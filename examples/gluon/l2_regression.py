# ruff: noqa: N802, N803, N806, UP031, E402, I001  (the seed's MXNet code as written: its names, % formats, path setup)
"""The seed's regression: ``gluon.nn.Dense(1, in_units=nf)`` with Normal(1.0) weights, ``gluon.loss.L2Loss``,
SGD, the mean loss per batch summed per epoch, then the learned parameters. MXNet code; only the import lines
changed. Full run: the loss falls to the noise level (about 5e-5 per sample: half of 0.01^2)."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _data import linear_regression

import ember.mxnet as mx  # was: import mxnet as mx
from ember.mxnet import autograd, gluon, nd  # was: from mxnet import autograd, gluon, nd


def main(quick=False, out="."):
    ModelCtx = mx.cpu()
    n, ne = (2_000, 5) if quick else (10_000, 10)
    nf, sigma, BatchSize, lr = 20, 1.0, 32, 0.05
    X, Y = linear_regression(n, nf)
    ns = int(n * 0.8)
    train_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X[:ns], Y[:ns]), BatchSize, shuffle=True)
    mx.random.seed(3)
    np.random.seed(3)  # DataLoader(shuffle=True) draws from NumPy, in MXNet too
    net = gluon.nn.Dense(1, in_units=nf)
    net.collect_params().initialize(mx.init.Normal(sigma=sigma), ctx=ModelCtx)
    square_loss = gluon.loss.L2Loss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    nb = ns / BatchSize
    loss_sequence = []
    for e in range(ne):
        CumulativeLoss = 0
        for data, label in train_data:
            data = data.as_in_context(ModelCtx)
            label = label.as_in_context(ModelCtx)
            with autograd.record():
                output = net(data)
                loss = square_loss(output, label)
            loss.backward()
            trainer.step(BatchSize)
            CumulativeLoss += nd.mean(loss).asscalar()
        print("Epoch %s, loss: %s" % (e, CumulativeLoss / nb))
        loss_sequence.append(CumulativeLoss / nb)
    params = net.collect_params()
    for param in params.values():
        print(param.name, param.data().shape)
    test_mse = float(nd.mean((net(nd.array(X[ns:])).reshape((-1,)) - nd.array(Y[ns:])) ** 2).asscalar())
    return {"first_loss": float(loss_sequence[0]), "loss": float(loss_sequence[-1]), "test_mse": test_mse}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
