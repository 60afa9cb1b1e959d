"""``keras.ops.nn``: the neural-network functions (activations, convolution, pooling, normalisation, losses, attention).

The names are those of Keras 3's ``keras.ops.nn``; each is the function of the
same name in ``ember.ops`` (looked up on first use, so this module adds no
second copy and stays in step with ``ember.ops``).
"""

from __future__ import annotations

import importlib

_NAMES = (
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "conv_transpose",
    "ctc_decode",
    "ctc_loss",
    "depth_to_space",
    "depthwise_conv",
    "dot_product_attention",
    "elu",
    "fold",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "polar",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "selu",
    "separable_conv",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "space_to_depth",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
    "unfold",
)
__all__ = list(_NAMES)  # every name is looked up in ember.ops on first use


# names whose Keras ops meaning differs from the ember.ops function of that name (see ember.ops.keras_nn)
_KERAS_VERSIONS = {
    "gelu": "keras_gelu",
    "binary_crossentropy": "keras_binary_crossentropy",
    "categorical_crossentropy": "keras_categorical_crossentropy",
    "sparse_categorical_crossentropy": "keras_sparse_categorical_crossentropy",
}


def __getattr__(name):
    if name in _KERAS_VERSIONS:
        value = getattr(importlib.import_module("ember.ops.keras_nn"), _KERAS_VERSIONS[name])
        globals()[name] = value
        return value
    if name in _NAMES:
        value = getattr(importlib.import_module("ember.ops"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember.ops.nn' has no attribute {name!r}")


def __dir__():
    return sorted(_NAMES)
