"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling1D/2D/3D, ZeroPadding1D/2D/3D,
Cropping1D/2D/3D."""

from .cropping import Cropping1D, Cropping2D
from .flatten import Flatten
from .permute import Permute
from .repeat_vector import RepeatVector
from .reshape import Reshape
from .reshaping3d import Cropping3D, UpSampling3D, ZeroPadding3D
from .up_sampling import UpSampling1D, UpSampling2D
from .zero_padding import ZeroPadding1D, ZeroPadding2D

__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Flatten",
    "Permute",
    "RepeatVector",
    "Reshape",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]
