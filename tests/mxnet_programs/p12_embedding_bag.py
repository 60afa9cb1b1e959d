"""Embedding of token ids, mean over the sequence, Dense classifier; AdaGrad steps (sparse rows)."""

import numpy as np

from ._util import floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    rng = np.random.default_rng(13)
    tokens = nd.array(rng.integers(0, 12, size=(5, 6)))
    labels = nd.array(rng.integers(0, 2, size=5))

    class Bag(gluon.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.embed = gluon.nn.Embedding(12, 4)
                self.out = gluon.nn.Dense(2)

        def forward(self, x):
            return self.out(self.embed(x).mean(axis=1))

    net = Bag()
    net.initialize()
    net(tokens)
    seed_params(net, seed=13)
    trainer = gluon.Trainer(net.collect_params(), "adagrad", {"learning_rate": 0.3})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(net(tokens), labels)
        loss.backward()
        trainer.step(5)
        losses.append(float(loss.mean().asscalar()))
    return {"losses": losses, "embed": floats(net.embed.weight.data()[:3])}
