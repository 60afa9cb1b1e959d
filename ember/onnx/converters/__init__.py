"""The layer converters, one module per layer family; importing this package registers them all."""

from . import (  # noqa: F401
    activations,
    conv,
    dense,
    embedding,
    merging,
    normalization,
    pooling,
    preprocessing,
    regularization,
    reshaping,
    rnn,
    time_distributed,
)
