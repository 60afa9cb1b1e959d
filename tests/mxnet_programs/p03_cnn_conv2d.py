"""A small LeNet-style CNN in NCHW: Conv2D (padding, stride), MaxPool2D, Flatten, Dense; SGD steps."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(4, (2, 9, 9), classes=4)
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"))
        net.add(gluon.nn.MaxPool2D(pool_size=2, strides=2))
        net.add(gluon.nn.Conv2D(5, kernel_size=(2, 3), strides=(1, 2)))
        net.add(gluon.nn.Flatten())
        net.add(gluon.nn.Dense(4))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(nd.array(x))
    seed_params(net, seed=3)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    losses = []
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(net(nd.array(x)), nd.array(y))
        loss.backward()
        trainer.step(4)
        losses.append(float(loss.mean().asscalar()))
    return {"losses": losses, "out": floats(net(nd.array(x)))}
