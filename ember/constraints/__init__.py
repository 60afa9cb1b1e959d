"""``ember.constraints``: projections applied to weights after each update, named as ``keras.constraints``."""

from .base import Constraint, deserialize, get, serialize
from .non_neg import NonNeg
from .norms import MaxNorm, MinMaxNorm, UnitNorm

# the lower-case spellings Keras exports (they are the classes themselves)
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]
