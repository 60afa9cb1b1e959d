"""Models: the Model base, Sequential and functional models."""

from ..saving import load_model, model_from_json
from .functional import Functional
from .model import Model
from .sequential import Sequential
