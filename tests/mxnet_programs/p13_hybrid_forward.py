"""A HybridBlock written with hybrid_forward(F, x, weight, bias) and hybridize()."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd

    class Affine(gluon.HybridBlock):
        def __init__(self, units, in_units, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.weight = self.params.get("weight", shape=(in_units, units))
                self.bias = self.params.get("bias", shape=(units,))

        def hybrid_forward(self, F, x, weight, bias):  # noqa: N803 (MXNet's name)
            return F.softmax(F.broadcast_add(F.dot(x, weight), bias), axis=-1)

    x = nd.array(data(4, (3,), seed=14))
    net = gluon.nn.HybridSequential()
    net.add(Affine(5, 3), gluon.nn.Dense(2, in_units=5))
    net.initialize()
    net.hybridize()
    seed_params(net, seed=14)
    with autograd.record():
        out = net(x)
        loss = nd.log_softmax(out).sum()
    loss.backward()
    first = list(net.collect_params().values())[0]
    return {"out": floats(out), "grad_w": floats(first.grad())}
