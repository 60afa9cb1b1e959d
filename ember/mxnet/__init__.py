"""MXNet 1.x's Python API on Ember's engine: ``import ember.mxnet as mx``.

``from ember.mxnet import nd, autograd, gluon, init`` gives MXNet's NDArray functions, autograd scopes, Gluon
(blocks, layers, losses, Trainer, data) and initializers. NDArrays are Ember tensors; layers compute with
Ember's ops; ``.params`` and ``nd.save`` files use MXNet's binary format, so files move between MXNet and
Ember both ways. See docs/gluon.md for what maps and what differs.
"""

from . import autograd, gluon, initializer, lr_scheduler, metric, nd, optimizer, random  # noqa: F401
from . import initializer as init  # noqa: F401
from .context import Context, cpu, current_context, gpu, num_gpus
from .ndarray import NDArray
from .unsupported import module, symbol

ndarray = nd
sym, mod = symbol, module  # not supported: any attribute raises NotImplementedError saying what to use
__version__ = "1.9.1-ember"

__all__ = [
    "Context",
    "NDArray",
    "autograd",
    "cpu",
    "current_context",
    "gluon",
    "gpu",
    "init",
    "initializer",
    "lr_scheduler",
    "metric",
    "mod",
    "module",
    "nd",
    "ndarray",
    "num_gpus",
    "optimizer",
    "random",
    "sym",
    "symbol",
]
