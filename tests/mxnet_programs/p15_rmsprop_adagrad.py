"""One network, four optimizers by name (rmsprop, centered rmsprop, adagrad with wd, sgd with clipping)."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(6, (4,), seed=16, classes=3)
    x, y = nd.array(x), nd.array(y)
    out = {}
    settings = {
        "rmsprop": ("rmsprop", {"learning_rate": 0.01}),
        "rmsprop_c": ("rmsprop", {"learning_rate": 0.01, "centered": True}),
        "adagrad_wd": ("adagrad", {"learning_rate": 0.1, "wd": 0.1}),
        "sgd_clip": ("sgd", {"learning_rate": 0.5, "clip_gradient": 0.05}),
        "adam_wd": ("adam", {"learning_rate": 0.05, "wd": 0.01}),
    }
    for key, (name, opts) in settings.items():
        net = gluon.nn.Dense(3)
        net.initialize()
        net(x)
        seed_params(net, seed=16)
        trainer = gluon.Trainer(net.collect_params(), name, opts)
        for _ in range(3):
            with autograd.record():
                loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)
            loss.backward()
            trainer.step(6)
        out[key] = floats(net.weight.data())
    return out
