"""A hybridized CNN with grouped convolutions (a ResNeXt-style 2-group 3x3 and a depthwise 3x3), BatchNorm and
momentum SGD: training steps, then inference on a new batch. (No ceil_mode pooling here: MXNet 1.9.1's CPU backward of
it is wrong for some shapes, see docs/gluon.md; its forward is checked in blocks.nd.)"""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(6, (4, 11, 11), seed=21, classes=3)
    x2 = data(6, (4, 11, 11), seed=22)
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(8, kernel_size=3, padding=1, groups=2, activation="relu"))
        net.add(gluon.nn.BatchNorm())
        net.add(gluon.nn.MaxPool2D(pool_size=3, strides=2))
        net.add(gluon.nn.Conv2D(8, kernel_size=3, groups=8, use_bias=False))
        net.add(gluon.nn.GlobalAvgPool2D())
        net.add(gluon.nn.Flatten())
        net.add(gluon.nn.Dense(3))
    net.initialize(mx.init.Xavier())
    net(nd.array(x))
    seed_params(net, seed=21)
    net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05, "momentum": 0.9})
    losses = []
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(net(nd.array(x)), nd.array(y))
        loss.backward()
        trainer.step(6)
        losses.append(float(loss.mean().asscalar()))
    params = net.collect_params()
    return {
        "losses": losses,
        "out": floats(net(nd.array(x2))),
        "conv0_weight": floats(params[net[0].weight.name].data()),
        "running_var": floats(params[net[1].running_var.name].data()),
    }
