"""Core layers: Input, Dense, and the other building blocks without a family of their own."""

from .dense import Dense
from .einsum_dense import EinsumDense
from .framework_layers import FlaxLayer, JaxLayer, TFSMLayer, TorchModuleWrapper
from .identity import Identity
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .wrapper import Wrapper
