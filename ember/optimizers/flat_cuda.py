"""The fused optimizer updates on the GPU: Adam, RMSprop, Adadelta and SGD as one elementwise kernel each.

The GPU forms of the loops in :mod:`ember.optimizers.kernels` (same arguments, same arithmetic in the same
order): :func:`ember.optimizers.kernels.adam` and friends call these first when the arrays are CuPy's, so a
variable's update (or a whole flat buffer's) is one launch that reads and writes each element once, where
the generic path is ~10 CuPy calls, each a pass over memory. The options that change the arithmetic
(AMSGrad, centered, momentum, Nesterov) pick one of a few kernels, each compiled once; the step's scalars
are kernel arguments in the arrays' dtype. CUDA may fuse a multiply and an add (FMA), so a GPU step can
differ from the CPU's in the last bit; the tests compare with a float32-honest tolerance.

Each function returns True when it ran, False when the arrays do not suit it (not CuPy, not one float32 or
float64 dtype): the caller then runs the generic xp path.
"""

from __future__ import annotations

import numpy

from ..backend import cuda


def _variant(name, extra_outputs, body):
    return cuda.register_elementwise(name, "T g, T c0, T c1, T c2, T c3, T c4, T c5", "T w" + extra_outputs, body)


# Adam: c0 alpha, c1 beta_1, c2 1 - beta_1, c3 beta_2, c4 1 - beta_2, c5 epsilon
_ADAM_HEAD = """
    T mi = m * c1 + g * c2;
    T vi = v * c3 + (g * g) * c4;
    m = mi;
    v = vi;
"""
_ADAM_TAIL = "    w -= (mi * c0) / (sqrt(vi) + c5);\n"
ADAM = _variant("adam", ", T m, T v", _ADAM_HEAD + _ADAM_TAIL)
ADAM_AMSGRAD = _variant(
    "adam_amsgrad",
    ", T m, T v, T v_hat",
    _ADAM_HEAD + "    T h = v_hat;\n    if (vi > h || vi != vi) h = vi;\n    v_hat = h;\n    vi = h;\n" + _ADAM_TAIL,
)


def _rmsprop_body(centered, use_momentum):
    # c0 rho, c1 1 - rho, c2 epsilon, c3 learning_rate, c4 momentum (c5 unused)
    body = "    T vi = v * c0 + (g * g) * c1;\n    v = vi;\n    T d = vi + c2;\n"
    if centered:
        body += "    T ai = a * c0 + g * c1;\n    a = ai;\n    d = d - ai * ai;\n"
    body += "    T increment = (g * c3) / sqrt(d);\n"
    if use_momentum:
        body += "    T mi = m * c4 + increment;\n    m = mi;\n    w -= mi;\n"
    else:
        body += "    w -= increment;\n"
    return body


RMSPROP = {
    (centered, mom): _variant(
        f"rmsprop{'_centered' if centered else ''}{'_momentum' if mom else ''}",
        ", T v" + (", T a" if centered else "") + (", T m" if mom else ""),
        _rmsprop_body(centered, mom),
    )
    for centered in (False, True)
    for mom in (False, True)
}

# SGD: c0 learning_rate, c1 momentum (the rest unused)
SGD = _variant("sgd", "", "    w -= g * c0;\n")
SGD_MOMENTUM = _variant(
    "sgd_momentum", ", T m", "    T step = g * c0;\n    T mi = m * c1 - step;\n    m = mi;\n    w += mi;\n"
)
SGD_NESTEROV = _variant(
    "sgd_nesterov",
    ", T m",
    "    T step = g * c0;\n    T mi = m * c1 - step;\n    m = mi;\n    w = (w - step) + mi * c1;\n",
)


# Adadelta: c0 rho, c1 1 - rho, c2 epsilon, c3 learning_rate
ADADELTA = _variant(
    "adadelta",
    ", T acc_grad, T acc_delta",
    """
    T eg = acc_grad * c0 + (g * g) * c1;
    acc_grad = eg;
    T delta = -((sqrt(acc_delta + c2) * g) / sqrt(eg + c2));
    acc_delta = acc_delta * c0 + (delta * delta) * c1;
    w += delta * c3;
""",
)


def _suits(*arrays) -> bool:
    """CuPy arrays of one shape and one float32/float64 dtype (None entries ignored)."""
    arrays = [a for a in arrays if a is not None]
    first = arrays[0]
    if not cuda.on_cuda(first) or cuda.type_name(first.dtype) is None:
        return False
    return all(cuda.on_cuda(a) and a.dtype == first.dtype and a.shape == first.shape for a in arrays)


def _scalars(dtype, values):
    t = numpy.dtype(dtype).type
    values = [t(v) for v in values]
    return values + [t(0)] * (6 - len(values))


def adam(w, g, m, v, v_hat, constants) -> bool:
    """:func:`ember.optimizers.kernels.adam` on the GPU (``constants`` as there)."""
    if not _suits(w, g, m, v, v_hat):
        return False
    c = _scalars(w.dtype, constants)
    if v_hat is None:
        cuda.elementwise_kernel(ADAM)(g, *c, w, m, v)
    else:
        cuda.elementwise_kernel(ADAM_AMSGRAD)(g, *c, w, m, v, v_hat)
    return True


def rmsprop(w, g, v, a, m, rho, one_minus_rho, epsilon, learning_rate, momentum) -> bool:
    """:func:`ember.optimizers.kernels.rmsprop` on the GPU (``a``/``m`` None when not centered / no momentum)."""
    if not _suits(w, g, v, a, m):
        return False
    c = _scalars(w.dtype, (rho, one_minus_rho, epsilon, learning_rate, momentum))
    slots = [v] + [x for x in (a, m) if x is not None]
    cuda.elementwise_kernel(RMSPROP[(a is not None, m is not None)])(g, *c, w, *slots)
    return True


def sgd(w, g, m, nesterov, learning_rate, momentum) -> bool:
    """:func:`ember.optimizers.kernels.sgd` on the GPU (``m`` None without momentum)."""
    if not _suits(w, g, m):
        return False
    c = _scalars(w.dtype, (learning_rate, momentum))
    if m is None:
        cuda.elementwise_kernel(SGD)(g, *c, w)
    else:
        cuda.elementwise_kernel(SGD_NESTEROV if nesterov else SGD_MOMENTUM)(g, *c, w, m)
    return True


def adadelta(w, g, acc_grad, acc_delta, rho, one_minus_rho, epsilon, learning_rate) -> bool:
    """:func:`ember.optimizers.kernels.adadelta` on the GPU."""
    if not _suits(w, g, acc_grad, acc_delta):
        return False
    c = _scalars(w.dtype, (rho, one_minus_rho, epsilon, learning_rate))
    cuda.elementwise_kernel(ADADELTA)(g, *c, w, acc_grad, acc_delta)
    return True
