"""autograd details: pause() inside record, is_recording/is_training, grad_req='add', head gradients,
autograd.grad, and a vector loss's backward (the sum)."""

from ._util import floats


def main(mx):
    nd, autograd = mx.nd, mx.autograd
    x = nd.array([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]])
    x.attach_grad()
    flags = []
    with autograd.record():
        flags += [autograd.is_recording(), autograd.is_training()]
        y = nd.exp(x) * x
        with autograd.pause():
            flags += [autograd.is_recording(), autograd.is_training()]
            c = y * 3  # not recorded
        z = (y * c.detach()).sum(axis=1)
    z.backward()
    g_vec = floats(x.grad)
    with autograd.record():
        y = nd.sin(x) * x
    y.backward(nd.array([[1.0, 2, 3], [4, 5, 6]]))
    g_head = floats(x.grad)
    w = nd.array([1.0, 2.0, 3.0])
    w.attach_grad(grad_req="add")
    for _ in range(2):
        with autograd.record():
            loss = (w * w).sum()
        loss.backward()
    with autograd.record(train_mode=False):
        flags.append(autograd.is_training())
        q = nd.tanh(x).sum()
    (dq,) = autograd.grad(q, [x])
    return {
        "flags": [float(f) for f in flags],
        "g_vec": g_vec,
        "g_head": g_head,
        "w_add": floats(w.grad),
        "dq": floats(dq),
    }
