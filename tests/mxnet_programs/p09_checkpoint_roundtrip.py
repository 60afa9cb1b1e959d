"""save_parameters / load_parameters into a fresh network; nd.save / nd.load of a dict and a list."""

import os
import tempfile

from ._util import data, floats, seed_params


def main(mx):
    gluon, nd = mx.gluon, mx.nd

    def build():
        net = gluon.nn.Sequential()
        with net.name_scope():
            net.add(gluon.nn.Dense(5, activation="relu"), gluon.nn.Dense(2))
        return net

    x = nd.array(data(3, (4,), seed=10))
    net = build()
    net.initialize()
    net(x)
    seed_params(net, seed=10)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.params")
        net.save_parameters(path)
        net2 = build()
        net2.load_parameters(path)
        keys = sorted(nd.load(path).keys())
        nd.save(os.path.join(tmp, "d"), {"x": x, "y": x * 2})
        nd.save(os.path.join(tmp, "l"), [x, x + 1])
        d = nd.load(os.path.join(tmp, "d"))
        lst = nd.load(os.path.join(tmp, "l"))
    return {
        "keys": keys,
        "same": floats(net2(x) - net(x)),
        "out": floats(net2(x)),
        "dict_y": floats(d["y"]),
        "list_1": floats(lst[1]),
    }
