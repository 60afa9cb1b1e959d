"""``mx.gluon``: nn, loss, data, Trainer, Parameter, Block (and rnn, utils)."""

from . import contrib, data, loss, nn, rnn, utils  # noqa: F401
from .block import Block, HybridBlock
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict
from .symbol_block import SymbolBlock
from .trainer import Trainer

__all__ = [
    "Block",
    "HybridBlock",
    "SymbolBlock",
    "Parameter",
    "ParameterDict",
    "Constant",
    "Trainer",
    "DeferredInitializationError",
    "nn",
    "loss",
    "data",
    "rnn",
    "utils",
    "contrib",
]
