"""Shared by the programs: deterministic data and weights from NumPy, the same under MXNet and Ember."""

import sys

import numpy as np


def _nd_of(param):
    """The nd module of the framework that made ``param`` (real MXNet's set_data wants its own NDArrays)."""
    return sys.modules[type(param).__module__.split(".gluon")[0]].nd


def seed_params(net, seed=0, scale=0.3):
    """Overwrite every parameter (in collect_params order) with N(0, scale^2) draws; BatchNorm's running
    variance gets values in [0.5, 1.5]."""
    rng = np.random.default_rng(seed)
    for name, p in net.collect_params().items():
        if name.endswith("running_var"):
            value = rng.uniform(0.5, 1.5, size=p.shape)
        else:
            value = rng.normal(size=p.shape) * scale
        p.set_data(_nd_of(p).array(value.astype("float32")))


def data(n, shape, seed=1, classes=None):
    """x ~ N(0, 1) of shape (n, *shape) and, when ``classes``, integer labels (as float32, MXNet's habit)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + tuple(shape)).astype("float32")
    if classes is None:
        return x
    y = rng.integers(0, classes, size=n).astype("float32")
    return x, y


def floats(a):
    """A list of Python floats from an NDArray / array."""
    a = a.asnumpy() if hasattr(a, "asnumpy") else np.asarray(a)
    return [float(v) for v in np.ravel(a)]
