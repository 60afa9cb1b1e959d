"""Models: the Model base, Sequential and functional models."""

from .functional import Functional
from .model import Model
from .sequential import Sequential
