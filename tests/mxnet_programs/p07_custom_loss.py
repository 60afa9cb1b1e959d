"""A custom loss (a gluon.loss.Loss subclass with hybrid_forward) next to the built-in weighted losses."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd

    class LogCosh(gluon.loss.Loss):
        def __init__(self, **kwargs):
            super().__init__(weight=None, batch_axis=0, **kwargs)

        def hybrid_forward(self, F, pred, label):  # noqa: N803 (MXNet's name)
            d = pred - label.reshape(pred.shape)
            return F.mean(F.log((F.exp(d) + F.exp(-d)) / 2), axis=self._batch_axis, exclude=True)

    x = nd.array(data(6, (3,), seed=7))
    target = nd.array(data(6, (2,), seed=8))
    sw = nd.array([[1.0], [0.5], [2.0], [0.0], [1.0], [3.0]])
    net = gluon.nn.Dense(2)
    net.initialize()
    net(x)
    seed_params(net, seed=7)
    out = {}
    for name, fn in [
        ("logcosh", LogCosh()),
        ("l1_w", gluon.loss.L1Loss(weight=0.5)),
        ("l2_sw", gluon.loss.L2Loss()),
        ("huber", gluon.loss.HuberLoss(rho=0.5)),
    ]:
        with autograd.record():
            loss = fn(net(x), target, sw) if name == "l2_sw" else fn(net(x), target)
        loss.backward()
        out[name] = floats(loss)
        out[name + "_grad"] = floats(net.weight.grad())
    return out
