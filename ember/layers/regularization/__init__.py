"""Regularization layers: Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout, ActivityRegularization."""

from .activity_regularization import ActivityRegularization
from .dropout import Dropout
from .gaussian_dropout import GaussianDropout
from .gaussian_noise import GaussianNoise
from .spatial_dropout import SpatialDropout1D, SpatialDropout2D

__all__ = [
    "ActivityRegularization",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
]
