"""The seed's gluon.Block MLP (three Dense, relu via nd.relu) trained with Adam."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd

    class MLP(gluon.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.dense0 = gluon.nn.Dense(16)
                self.dense1 = gluon.nn.Dense(16)
                self.dense2 = gluon.nn.Dense(3)

        def forward(self, x):
            x = nd.relu(self.dense0(x))
            x = nd.relu(self.dense1(x))
            return self.dense2(x)

    x, y = data(10, (4,), classes=3)
    net = MLP()
    net.collect_params().initialize(mx.init.Normal(sigma=0.1))
    net(nd.array(x))
    seed_params(net, seed=2)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    losses = []
    for _ in range(5):
        with autograd.record():
            loss = loss_fn(net(nd.array(x)), nd.array(y))
        loss.backward()
        trainer.step(x.shape[0])
        losses.append(float(nd.sum(loss).asscalar()))
    return {"losses": losses, "w0": floats(net.dense0.weight.data()[0])}
