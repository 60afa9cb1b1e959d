"""Nested element structures (an array, or tuples and dicts of them) flattened to leaves and back.

Lists are leaves (array-likes, as tf.data treats them): ``[[1, 2], [3, 4]]`` is one 2x2 array.
A dataset element is such a structure; the pipeline works on the flat list of leaves (one NumPy array per
component) and rebuilds the structure only at the edge, so every transformation stays a loop over a few
arrays, never over samples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["flatten", "unflatten", "map_structure"]


def flatten(structure):
    """Return ``(leaves, spec)``: the leaves in a fixed order and a spec to rebuild the structure."""
    leaves = []
    spec = _flatten(structure, leaves)
    return leaves, spec


def _flatten(s, leaves):
    if isinstance(s, dict):
        return ("dict", tuple(s.keys()), tuple(_flatten(s[k], leaves) for k in s))
    if isinstance(s, tuple) and not hasattr(s, "_fields"):
        return ("tuple", None, tuple(_flatten(v, leaves) for v in s))
    leaves.append(s)
    return None


def unflatten(spec, leaves):
    """Rebuild the structure described by ``spec`` from ``leaves`` (as produced by :func:`flatten`)."""
    it = iter(leaves)
    return _unflatten(spec, it)


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, keys, children = spec
    values = [_unflatten(c, it) for c in children]
    if kind == "dict":
        return dict(zip(keys, values))
    if kind == "tuple":
        return tuple(values)
    return values


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf of ``structure``."""
    leaves, spec = flatten(structure)
    return unflatten(spec, [fn(x) for x in leaves])


def to_default_float(a):
    """``a`` as a NumPy array; float64 becomes Ember's floatx (float32), everything else keeps its dtype."""
    from ..backend.config import floatx

    a = np.asarray(a)
    if a.dtype == np.float64 and floatx() != "float64":
        a = a.astype(floatx())
    return a
