"""Ember: a deep-learning framework on NumPy (CPU) and CuPy (NVIDIA GPUs).

The engine is exposed at the top level: ``ember.tensor``, the creation
functions, ``ember.no_grad``, and every differentiable op with NumPy's name
(``ember.exp``, ``ember.concatenate``) or its neural-network name
(``ember.relu``, ``ember.softmax``, ``ember.conv2d``).
"""

from . import backend, random
from .backend import Device, device
from .engine import *  # noqa: F403
from .ops import *  # noqa: F403

__version__ = "0.1.0"
