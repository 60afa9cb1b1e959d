# ruff: noqa: N802, N803, N806, UP031, E402, I001  (the seed's MXNet code as written: its names, % formats, path setup)
"""The seed's checkpoints: ``nd.save`` of a dict of NDArrays and ``nd.load``; a network's ``save_params`` and,
in a rebuilt network (same architecture under name_scope), ``load_params(filename, ctx=ctx)``. The files are
MXNet's binary format: real MXNet loads them and Ember loads MXNet's. MXNet code; only the import lines
changed."""

import os
import sys

import numpy as np

import ember.mxnet as mx  # was: import mxnet as mx
from ember.mxnet import autograd, gluon, nd  # was: from mxnet import autograd, gluon, nd


def main(quick=False, out="."):
    ctx = mx.cpu()  # context for NDArrays
    os.makedirs(out, exist_ok=True)
    X = nd.random.normal(shape=(100, 5), ctx=ctx)
    Y = nd.array((X.asnumpy().sum(axis=1) > 0).astype("float32"))
    dict = {"X": X, "Y": Y}  # noqa: A001 - the seed's name
    filename = os.path.join(out, "test.dat")
    nd.save(filename, dict)
    Z = nd.load(filename)
    data_ok = bool((Z["X"] == X).asnumpy().all() and (Z["Y"] == Y).asnumpy().all())

    num_hidden = 16
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(num_hidden, activation="relu"))
        net.add(gluon.nn.Dense(num_hidden, activation="relu"))
        net.add(gluon.nn.Dense(2))
    net.collect_params().initialize(mx.init.Normal(sigma=0.1), ctx=ctx)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(20 if quick else 100):
        with autograd.record():
            loss = loss_fn(net(X), Y)
        loss.backward()
        trainer.step(X.shape[0])

    filename = os.path.join(out, "MyNet.params")
    net.save_params(filename)
    net2 = gluon.nn.Sequential()
    with net2.name_scope():
        net2.add(gluon.nn.Dense(num_hidden, activation="relu"))
        net2.add(gluon.nn.Dense(num_hidden, activation="relu"))
        net2.add(gluon.nn.Dense(2))
    net2.load_params(filename, ctx=ctx)
    same = float(np.abs(net2(X).asnumpy() - net(X).asnumpy()).max())
    accuracy = float((nd.argmax(net2(X), axis=1) == Y).mean().asscalar())
    print("data round trip:", data_ok, "| max difference after reload:", same, "| accuracy:", accuracy)
    return {"data_ok": data_ok, "max_difference": same, "accuracy": accuracy}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv, out="." if len(sys.argv) < 3 else sys.argv[2])
