"""NAG (with and without momentum, with wd), AdaDelta and Adamax by name, three steps each."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(6, (4,), seed=21, classes=3)
    x, y = nd.array(x), nd.array(y)
    out = {}
    settings = {
        "nag": ("nag", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
        "nag_plain": ("nag", {"learning_rate": 0.1}),
        "adadelta": ("adadelta", {"wd": 0.01}),
        "adamax": ("adamax", {"learning_rate": 0.05}),
    }
    for key, (name, opts) in settings.items():
        net = gluon.nn.Dense(3)
        net.initialize()
        net(x)
        seed_params(net, seed=21)
        trainer = gluon.Trainer(net.collect_params(), name, opts)
        for _ in range(3):
            with autograd.record():
                loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)
            loss.backward()
            trainer.step(6)
        out[key] = floats(net.weight.data())
    return out
