"""The engine: Tensor, Function, backward(), grad mode, creation functions and RNG."""

from .autograd import backward, grad
from .creation import arange, eye, full, full_like, linspace, ones, ones_like, zeros, zeros_like
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .sparse_grad import RowSparseGrad
from .tensor import Tensor, tensor
from .variable import Variable

__all__ = [
    "Function",
    "RowSparseGrad",
    "Tensor",
    "Variable",
    "arange",
    "backward",
    "enable_grad",
    "eye",
    "full",
    "full_like",
    "grad",
    "is_grad_enabled",
    "linspace",
    "no_grad",
    "ones",
    "ones_like",
    "set_grad_enabled",
    "tensor",
    "zeros",
    "zeros_like",
]
