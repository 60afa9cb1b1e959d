"""Ember's data layer: datasets, input pipelines and preprocessing. Never imports a model."""

from . import datasets, preprocessing
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from .spec import TensorSpec
from .unpack import unpack_x_y_sample_weight

__all__ = [
    "Dataset",
    "TensorSpec",
    "AUTOTUNE",
    "INFINITE_CARDINALITY",
    "UNKNOWN_CARDINALITY",
    "unpack_x_y_sample_weight",
]
