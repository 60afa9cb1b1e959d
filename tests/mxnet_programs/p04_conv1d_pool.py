"""Conv1D + AvgPool1D (padded, counted) + GlobalAvgPool via mean; gradient of the input."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x = nd.array(data(3, (2, 11)))
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Conv1D(3, kernel_size=3, strides=2, padding=1, activation="tanh"))
    net.add(gluon.nn.AvgPool1D(pool_size=2, strides=1, padding=1))
    net.add(gluon.nn.MaxPool1D(pool_size=2))
    net.initialize()
    net(x)
    seed_params(net, seed=4)
    x.attach_grad()
    with autograd.record():
        out = net(x)
        total = (out * out).sum()
    total.backward()
    return {"out": floats(out), "dx": floats(x.grad)}
