"""``ember.regularizers``: weight penalties added to the loss, named and configured as ``keras.regularizers``."""

from .base import Regularizer, deserialize, get, serialize
from .l1_l2 import L1, L1L2, L2
from .orthogonal import OrthogonalRegularizer

# the lower-case spellings Keras 3 exports (they are the classes themselves)
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]
