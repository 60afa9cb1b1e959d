"""A bidirectional GRU over NTC input, mean over time, L2Loss regression with SGD; checkpoint in the middle."""

import os
import tempfile

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.rnn.GRU(3, layout="NTC", bidirectional=True))
    head = gluon.nn.Dense(1)
    x = nd.array(data(4, (5, 2), seed=19))  # (N=4, T=5, C=2)
    target = nd.array(data(4, (1,), seed=20))
    net.initialize()
    head.initialize()
    head(net(x).mean(axis=1))
    seed_params(net, seed=19)
    seed_params(head, seed=20)
    params = net.collect_params()
    params.update(head.collect_params())
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1, "momentum": 0.5})
    loss_fn = gluon.loss.L2Loss()
    losses = []
    with tempfile.TemporaryDirectory() as tmp:
        for step in range(4):
            with autograd.record():
                loss = loss_fn(head(net(x).mean(axis=1)), target)
            loss.backward()
            trainer.step(4)
            losses.append(float(loss.mean().asscalar()))
            if step == 1:
                net.save_parameters(os.path.join(tmp, "gru.params"))
        net.load_parameters(os.path.join(tmp, "gru.params"))
        keys = sorted(nd.load(os.path.join(tmp, "gru.params")).keys())
    return {"losses": losses, "restored_out": floats(head(net(x).mean(axis=1))), "keys": keys}
