"""Keras layers, one family per subpackage; this file only re-exports them."""

from .core import Dense, Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
