"""MXNet's ``nd.random`` / ``mx.random`` (seed, normal, uniform, randint, shuffle) on Ember's generator."""

from __future__ import annotations

import numpy as np

import ember

from .ndarray import _nd, _place


def seed(seed_state: int, ctx="all") -> None:
    """Reset Ember's process-wide generator (MXNet's streams differ: numbers will not match MXNet's)."""
    ember.random.seed(int(seed_state))


def _shape(shape):
    if shape is None:
        return (1,)
    return (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)


def normal(loc=0.0, scale=1.0, shape=None, dtype=None, ctx=None, **kwargs):
    """Samples from N(loc, scale^2)."""
    out = ember.random.normal(_shape(shape), mean=loc, stddev=scale, dtype=dtype or "float32")
    return _place(out.data, ctx)


def uniform(low=0.0, high=1.0, shape=None, dtype=None, ctx=None, **kwargs):
    """Samples from U[low, high)."""
    out = ember.random.uniform(_shape(shape), minval=low, maxval=high, dtype=dtype or "float32")
    return _place(out.data, ctx)


def randint(low, high, shape=None, dtype="int32", ctx=None, **kwargs):
    out = ember.random.randint(_shape(shape), low, high, dtype=dtype)
    return _place(out.data, ctx)


def shuffle(data):
    """A copy of ``data`` with its first axis permuted."""
    return _nd(ember.random.shuffle(data))
