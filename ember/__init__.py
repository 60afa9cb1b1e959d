"""Ember: a deep-learning framework on NumPy (CPU) and CuPy (NVIDIA GPUs).

The engine is exposed at the top level: ``ember.tensor``, the creation
functions, ``ember.no_grad``, and every differentiable op with NumPy's name
(``ember.exp``, ``ember.concatenate``) or its neural-network name
(``ember.relu``, ``ember.softmax``, ``ember.conv2d``). The Keras API sits
beside it with Keras's names, so ``import ember as keras`` runs Keras programs:
``ember.layers``, ``ember.models``, ``ember.Sequential``, ``ember.Input``, ...
Those are imported on first use, so ``import ember`` stays quick.
"""

import importlib

from . import backend, random
from .backend import Device, device
from .engine import *  # noqa: F403
from .ops import *  # noqa: F403

__version__ = "0.1.0"


def version() -> str:
    """Ember's version (``keras.version()``)."""
    return __version__


# subpackages imported on first access (ember.layers, ember.optimizers, ...)
_SUBPACKAGES = {
    "activations",
    "applications",
    "callbacks",
    "config",
    "constraints",
    "data",
    "datasets",
    "distribution",
    "dtype_policies",
    "errors",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "mxnet",
    "onnx",
    "optimizers",
    "preprocessing",
    "regularizers",
    "saving",
    "training",
    "utils",
    "wrappers",
    "tree",
    "mixed_precision",
    "export",
    "quantizers",
    "visualization",
    "distillation",
    "legacy",
}
# Keras's top-level names and the subpackage each comes from
_TOP_LEVEL = {
    "Input": "layers",
    "InputSpec": "layers",
    "Layer": "layers",
    "Model": "models",
    "Sequential": "models",
    "Loss": "losses",
    "Metric": "metrics",
    "Optimizer": "optimizers",
    "Initializer": "initializers",
    "Regularizer": "regularizers",
    "Constraint": "constraints",
    "DTypePolicy": "dtype_policies",
    "FloatDTypePolicy": "dtype_policies",
    "name_scope": "scopes",
    "StatelessScope": "scopes",
    "SymbolicScope": "scopes",
    "RematScope": "scopes",
    "remat": "scopes",
    "KerasTensor": "layers.symbolic",
    "Quantizer": "layers.quantizer",
}


def __getattr__(name):
    if name in _SUBPACKAGES:
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'ember' has no attribute {name!r} (not built yet)") from None
    if name in _TOP_LEVEL:
        module = importlib.import_module(f".{_TOP_LEVEL[name]}", __name__)
        return getattr(module, "SymbolicTensor" if name == "KerasTensor" else name)
    raise AttributeError(f"module 'ember' has no attribute {name!r}")
