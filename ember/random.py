"""``ember.random``: seeded random tensors (names as in ``keras.random``)."""

from .engine.random import (
    Generator,
    default_generator,
    normal,
    permutation,
    randint,
    seed,
    shuffle,
    truncated_normal,
    uniform,
)

__all__ = [
    "Generator",
    "default_generator",
    "normal",
    "permutation",
    "randint",
    "seed",
    "shuffle",
    "truncated_normal",
    "uniform",
]
