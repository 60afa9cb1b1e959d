"""``gluon.data``: ``Dataset``, ``ArrayDataset``, ``SimpleDataset``, ``DataLoader``, ``vision``."""

from . import vision  # noqa: F401
from .dataloader import DataLoader
from .dataset import ArrayDataset, Dataset, SimpleDataset

__all__ = ["ArrayDataset", "DataLoader", "Dataset", "SimpleDataset", "vision"]
