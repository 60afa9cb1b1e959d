"""Sequential MLP, SoftmaxCrossEntropyLoss, SGD with momentum and weight decay, 4 steps."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd = mx.gluon, mx.autograd
    x, y = data(8, (5,), classes=3)
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(6, activation="relu"), gluon.nn.Dense(3))
    net.initialize(mx.init.Normal(0.1))
    net(mx.nd.array(x))
    seed_params(net)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9, "wd": 0.01})
    losses = []
    for _ in range(4):
        with autograd.record():
            loss = loss_fn(net(mx.nd.array(x)), mx.nd.array(y))
        loss.backward()
        trainer.step(8)
        losses.append(float(loss.mean().asscalar()))
    return {"losses": losses, "out": floats(net(mx.nd.array(x)))}
