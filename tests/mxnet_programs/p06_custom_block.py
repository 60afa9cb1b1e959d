"""A custom Block with its own Parameter (params.get), a residual connection and a shared Dense."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd

    class Residual(gluon.Block):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.scale = self.params.get("scale", shape=(units,))
                self.inner = gluon.nn.Dense(units, in_units=units)

        def forward(self, x):
            return x + self.scale.data() * nd.tanh(self.inner(x))

    x = nd.array(data(5, (4,), seed=6))
    net = gluon.nn.Sequential()
    net.add(Residual(4), Residual(4), gluon.nn.Dense(1))
    net.initialize()
    net(x)
    seed_params(net, seed=6)
    names = [k.split("_", 1)[1] for k in net.collect_params().keys()]
    with autograd.record():
        loss = nd.mean(net(x) ** 2)
    loss.backward()
    grads = [floats(p.grad()) for p in net.collect_params().values()]
    return {"loss": float(loss.asscalar()), "grad_scale0": grads[0], "grad_last": grads[-1], "n": len(names)}
