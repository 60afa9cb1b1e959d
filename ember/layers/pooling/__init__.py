"""Pooling layers: max, average and global pooling in 1-D and 2-D (and Keras's short aliases)."""

from .average_pooling import AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D
from .base_global_pooling import BaseGlobalPooling
from .base_pooling import BasePooling
from .global_average_pooling import GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D
from .global_max_pooling import GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D, GlobalMaxPooling2D
from .max_pooling import MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
]
