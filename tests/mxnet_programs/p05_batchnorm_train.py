"""BatchNorm in training mode (batch statistics, running averages) and in inference mode."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x = nd.array(data(6, (3, 2, 2), seed=5) * 2 + 1)
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Conv2D(4, kernel_size=1), gluon.nn.BatchNorm(momentum=0.8), gluon.nn.Activation("relu"))
    net.add(gluon.nn.Flatten(), gluon.nn.Dense(2))
    net.initialize()
    net(x)
    seed_params(net, seed=5)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05})
    for _ in range(2):
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
        trainer.step(6)
    bn = net[1]
    return {
        "running_mean": floats(bn.running_mean.data()),
        "running_var": floats(bn.running_var.data()),
        "gamma": floats(bn.gamma.data()),
        "infer": floats(net(x)),
    }
