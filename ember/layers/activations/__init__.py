"""Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from .activation import Activation
from .elu import ELU
from .leaky_relu import LeakyReLU
from .prelu import PReLU
from .relu import ReLU
from .softmax import Softmax

__all__ = ["Activation", "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
