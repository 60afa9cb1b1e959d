"""Binary classifier: SigmoidBinaryCrossEntropyLoss on logits and on probabilities, with sample weights."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    x, y = data(7, (4,), seed=12, classes=2)
    x, y = nd.array(x), nd.array(y)
    net = gluon.nn.Dense(1)
    net.initialize()
    net(x)
    seed_params(net, seed=12, scale=1.0)
    sw = nd.array([1, 2, 1, 0.5, 1, 1, 3]).reshape((7, 1))
    with autograd.record():
        logits = net(x)
        loss_a = gluon.loss.SigmoidBinaryCrossEntropyLoss()(logits, y, sw)
        loss_b = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)(nd.sigmoid(logits), y)
        total = loss_a.sum() + loss_b.sum()
    total.backward()
    return {"a": floats(loss_a), "b": floats(loss_b), "grad": floats(net.weight.grad())}
