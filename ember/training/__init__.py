"""The training loops (fit, evaluate, predict) and their data adapters."""

from .trainer import Trainer
