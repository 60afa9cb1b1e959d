"""Models: the Model base, Sequential and functional models."""

from ..saving import load_model, model_from_json, save_model
from .cloning import clone_model
from .functional import Functional
from .model import Model
from .sequential import Sequential
