"""``set_random_seed``: one call that makes a CPU run repeat bit for bit."""

from __future__ import annotations

import random
import sys

import numpy as np

from ..engine import random as _engine_random

__all__ = ["set_random_seed", "get_random_seed"]

_seed = None


def set_random_seed(seed):
    """Seed every random stream a program may use: Python's ``random``, NumPy's global RNG and Ember's.

    After ``set_random_seed(s)`` a program that draws its randomness from these (weight
    initializers, dropout, shuffling in ``fit``, ``ember.random``, ``np.random``, ``random``)
    gives the same numbers on the CPU every run. If PyTorch is already imported, its seed is
    set too, as ``keras.utils.set_random_seed`` does on the torch backend.

    Args:
        seed: an int.

    Raises:
        ValueError: ``seed`` is not an int.
    """
    global _seed
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: expected an integer seed, got seed={seed!r} (of type {type(seed)})")
    _seed = seed
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seeder takes [0, 2**32)
    _engine_random.seed(seed)
    torch = sys.modules.get("torch")  # only if the program uses it; never imported for this
    if torch is not None and hasattr(torch, "manual_seed"):
        torch.manual_seed(seed)


def get_random_seed():
    """The seed last given to :func:`set_random_seed`, or None if it was never called."""
    return _seed
