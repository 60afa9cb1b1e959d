"""ArrayDataset + DataLoader (last_batch keep/discard/rollover, transform_first) feeding an SGD loop."""

import numpy as np

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(10, (3,), seed=9, classes=2)
    ds = gluon.data.ArrayDataset(x, y).transform_first(lambda a: a * 2)
    sizes = {}
    for mode in ("keep", "discard", "rollover"):
        loader = gluon.data.DataLoader(ds, batch_size=4, shuffle=False, last_batch=mode)
        sizes[mode] = [[int(b[0].shape[0]) for b in loader] for _ in range(2)]
    net = gluon.nn.Dense(2)
    net.initialize()
    net(nd.array(x))
    seed_params(net, seed=9)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
    total = []
    for _epoch in range(2):
        epoch_loss = 0.0
        for xb, yb in gluon.data.DataLoader(ds, batch_size=4):
            with autograd.record():
                loss = loss_fn(net(xb), yb)
            loss.backward()
            trainer.step(xb.shape[0])
            epoch_loss += float(nd.sum(loss).asscalar())
        total.append(epoch_loss)
    return {
        "keep": np.ravel(sizes["keep"]).tolist(),
        "discard": np.ravel(sizes["discard"]).tolist(),
        "rollover": [n for epoch in sizes["rollover"] for n in epoch],
        "epoch_loss": total,
        "w": floats(net.weight.data()),
    }
