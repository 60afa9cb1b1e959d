"""The seed's raw-NDArray MLP: parameters with attach_grad, softmax by hand with nd.nansum(exclude=True),
one_hot labels, cross-entropy, and the in-place SGD update ``param[:] = param - lr * param.grad``."""

import numpy as np

from ._util import floats


def main(mx):
    nd, autograd = mx.nd, mx.autograd
    rng = np.random.default_rng(15)
    nf, nhn, no = 3, 8, 3
    X = nd.array(rng.normal(size=(6, nf)))
    label = nd.array(rng.integers(0, no, size=6))
    params = [nd.array(rng.normal(size=s) * 0.5) for s in [(nf, nhn), (nhn,), (nhn, no), (no,)]]
    for p in params:
        p.attach_grad()
    W1, b1, W2, b2 = params

    def relu(x):
        return nd.maximum(x, nd.zeros_like(x))

    def softmax(y_linear):
        exp = nd.exp(y_linear - nd.max(y_linear))
        partition = nd.nansum(exp, axis=0, exclude=True).reshape((-1, 1))
        return exp / partition

    def cross_entropy(yhat, y):
        return -nd.nansum(y * nd.log(yhat), axis=0, exclude=True)

    losses = []
    for _ in range(3):
        with autograd.record():
            out = softmax(nd.dot(relu(nd.dot(X, W1) + b1), W2) + b2)
            loss = cross_entropy(out, nd.one_hot(label, no))
        loss.backward()
        for p in params:
            p[:] = p - 0.1 * p.grad
        losses.append(float(nd.sum(loss).asscalar()))
    acc = float(nd.sum(nd.argmax(out, axis=1) == label).asscalar())
    return {"losses": losses, "W2": floats(W2), "acc": acc}
