"""The seed's L2Loss regression: Dense(1, in_units=nf), DataLoader with batches, SGD, mean loss per epoch."""

import numpy as np

from ._util import floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    rng = np.random.default_rng(11)
    nf = 3
    X = rng.normal(size=(20, nf)).astype("float32")
    Y = (X @ np.array([2.0, -3.4, 1.5]) + 4.2 + 0.01 * rng.normal(size=20)).astype("float32")
    net = gluon.nn.Dense(1, in_units=nf)
    net.collect_params().initialize(mx.init.Normal(sigma=1.0))
    seed_params(net, seed=11)
    square_loss = gluon.loss.L2Loss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, Y), batch_size=5, shuffle=False)
    history = []
    for _ in range(3):
        cumulative = 0.0
        for data, label in loader:
            with autograd.record():
                loss = square_loss(net(data), label)
            loss.backward()
            trainer.step(data.shape[0])
            cumulative += nd.mean(loss).asscalar()
        history.append(float(cumulative))
    return {"history": history, "w": floats(net.weight.data()), "b": floats(net.bias.data())}
