"""``ember.random``: seeded random tensors (names as in ``keras.random``)."""

from .engine.random import (
    Generator,
    default_generator,
    get_state,
    normal,
    permutation,
    randint,
    seed,
    set_state,
    shuffle,
    truncated_normal,
    uniform,
)

__all__ = [
    "Generator",
    "default_generator",
    "get_state",
    "normal",
    "permutation",
    "randint",
    "seed",
    "set_state",
    "shuffle",
    "truncated_normal",
    "uniform",
]
