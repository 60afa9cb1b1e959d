"""Losses as Keras 3 names them: the ``Loss`` classes, the per-sample functions, and lookup by name."""

from .base import Loss
from .circle import Circle, circle
from .ctc import CTC, ctc
from .focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from .functions import *
from .generalized_cross_entropy import CategoricalGeneralizedCrossEntropy, categorical_generalized_cross_entropy
from .hinge_losses import CategoricalHinge, Hinge, SquaredHinge
from .overlap import Dice, Tversky, dice, tversky
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from .reduction import reduce_weighted_values, squeeze_or_expand_to_same_rank
from .registry import ALL_OBJECTS_DICT, deserialize, get, resolve_crossentropy, serialize
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)
from .wrapper import LossFunctionWrapper
