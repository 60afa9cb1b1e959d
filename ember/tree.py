"""``ember.tree`` (Keras's ``keras.tree``): functions over nested structures of lists, tuples and dicts.

A structure is a leaf or a node. The nodes are ``list``, ``tuple``, named tuples,
``dict`` and ``defaultdict`` (children in sorted key order, so two dicts with the
same keys flatten alike) and ``OrderedDict`` (children in insertion order).
Everything else is a leaf: ``None``, numbers, strings, arrays, tensors, sets.

    >>> from ember import tree
    >>> tree.flatten({"b": [1, (2, None)], "a": 3})
    [3, 1, 2, None]
    >>> tree.map_structure(lambda x, y: x + y, [1, {"k": 2}], [10, {"k": 20}])
    [11, {'k': 22}]

Keras on its torch backend sorts only the outermost of two nested dicts; Ember
sorts every dict, as Keras does with its ``optree`` and ``dm-tree`` backends.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]


class MAP_TO_NONE:  # noqa: N801 (Keras's name)
    """Returned by a :func:`traverse` function to put ``None`` in place of a node or leaf."""


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_node(x, none_is_leaf: bool = True) -> bool:
    if x is None:
        return not none_is_leaf
    return isinstance(x, (list, tuple, dict))


def _keys(x) -> list:
    """The child keys of node ``x`` in flattening order (indices for sequences)."""
    if x is None:
        return []
    if isinstance(x, dict):
        if type(x) is OrderedDict:
            return list(x.keys())
        try:
            return sorted(x.keys())
        except TypeError:
            raise TypeError(
                f"tree: a dict's keys must be sortable to flatten it, got keys {list(x.keys())!r}"
            ) from None
    return list(range(len(x)))


def _children(x) -> list:
    return [x[k] for k in _keys(x)]


def _rebuild(node, values: list):
    """A node like ``node`` (same type and keys) holding ``values`` in flattening order."""
    if node is None:
        return None
    if isinstance(node, dict):
        pairs = dict(zip(_keys(node), values))
        if type(node) is defaultdict:
            return defaultdict(node.default_factory, {k: pairs[k] for k in node})
        if type(node) is OrderedDict:
            return OrderedDict((k, pairs[k]) for k in node)
        # other dict types keep their own key order
        return type(node)((k, pairs[k]) for k in node)
    if _is_namedtuple(node):
        return type(node)(*values)
    if isinstance(node, tuple):
        return tuple(values) if type(node) is tuple else type(node)(values)
    return list(values) if type(node) is list else type(node)(values)


def is_nested(structure) -> bool:
    """True when ``structure`` is a list, tuple or dict (a node), False for a leaf."""
    return _is_node(structure)


def flatten(structure) -> list:
    """The leaves of ``structure`` in order (dicts by sorted key); a leaf gives ``[leaf]``."""
    out = []

    def walk(x):
        if _is_node(x):
            for child in _children(x):
                walk(child)
        else:
            out.append(x)

    walk(structure)
    return out


def flatten_with_path(structure) -> list:
    """``[(path, leaf), ...]``: each leaf with the tuple of indices/keys that leads to it."""
    out = []

    def walk(x, path):
        if _is_node(x):
            for key in _keys(x):
                walk(x[key], path + (key,))
        else:
            out.append((path, x))

    walk(structure, ())
    return out


def _describe(x) -> str:
    text = repr(x)
    return text if len(text) <= 200 else text[:200] + "..."


def _check_same(a, b, path=()):
    """Raise ValueError unless ``a`` and ``b`` have the same nodes (types and keys) down to the leaves."""
    a_node, b_node = _is_node(a), _is_node(b)
    where = f" at path {path}" if path else ""
    if a_node != b_node:
        raise ValueError(
            f"Structures don't have the same nested structure{where}: one is a "
            f"{'node' if a_node else 'leaf'} ({_describe(a)}), the other a {'node' if b_node else 'leaf'} "
            f"({_describe(b)})"
        )
    if not a_node:
        return
    if type(a) is not type(b):
        raise ValueError(
            f"Structures don't have the same nested structure{where}: node type mismatch, expected "
            f"{type(a).__name__} but got {type(b).__name__}"
        )
    keys_a, keys_b = _keys(a), _keys(b)
    if keys_a != keys_b:
        what = "keys" if isinstance(a, dict) else "lengths"
        detail = f"{keys_a} vs {keys_b}" if isinstance(a, dict) else f"{len(a)} vs {len(b)}"
        raise ValueError(f"Structures don't have the same nested structure{where}: different {what} ({detail})")
    for key in keys_a:
        _check_same(a[key], b[key], path + (key,))


def assert_same_structure(a, b, check_types=None) -> None:
    """Raise ValueError unless ``a`` and ``b`` nest alike (same node types, lengths and keys).

    ``check_types`` is accepted for compatibility and has no effect (as in Keras 3).
    """
    if check_types is not None:
        warnings.warn(
            "The `check_types` argument is deprecated and no longer has any effect, please remove.",
            DeprecationWarning,
            stacklevel=2,
        )
    _check_same(a, b)


def assert_same_paths(a, b) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same set of leaf paths (node types may differ)."""
    paths_a = {path for path, _ in flatten_with_path(a)}
    paths_b = {path for path, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError(
            "`a` and `b` don't have the same paths.\n"
            f"Paths in `a` missing in `b`:\n{paths_a - paths_b}\n"
            f"Paths in `b` missing in `a`:\n{paths_b - paths_a}"
        )


def pack_sequence_as(structure, flat_sequence):
    """``flat_sequence``'s items arranged as ``structure``'s leaves (the inverse of :func:`flatten`)."""
    if not isinstance(flat_sequence, (list, tuple)):
        try:
            flat_sequence = list(flat_sequence)
        except TypeError:
            raise TypeError(
                f"pack_sequence_as: flat_sequence must be a sequence, got {type(flat_sequence).__name__}"
            ) from None
    expected = len(flatten(structure))
    if len(flat_sequence) != expected:
        raise ValueError(
            f"pack_sequence_as: the structure has {expected} leaves but flat_sequence has {len(flat_sequence)} "
            f"items. Structure: {_describe(structure)}"
        )
    items = iter(flat_sequence)

    def build(x):
        if _is_node(x):
            return _rebuild(x, [build(child) for child in _children(x)])
        return next(items)

    return build(structure)


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied leaf-wise to same-shaped ``structures``; the result has the first one's structure.

    Args:
        func: called with one leaf from each structure.
        *structures: one or more structures that nest alike (see :func:`assert_same_structure`).
        none_is_leaf: when False, ``None`` is an empty node: ``func`` is not called on it and it stays None.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    first = structures[0]
    for other in structures[1:]:
        _check_same_mode(first, other, none_is_leaf)

    def walk(*xs):
        x = xs[0]
        if _is_node(x, none_is_leaf):
            keys = _keys(x)
            return _rebuild(x, [walk(*(s[k] for s in xs)) for k in keys])
        return func(*xs)

    return walk(*structures)


def _check_same_mode(a, b, none_is_leaf):
    if none_is_leaf:
        _check_same(a, b)
        return
    a_none, b_none = a is None, b is None
    if a_none or b_none:
        if a_none != b_none:
            raise ValueError(f"Structures don't have the same nested structure: {_describe(a)} vs {_describe(b)}")
        return
    if _is_node(a) and _is_node(b) and type(a) is type(b) and _keys(a) == _keys(b):
        for key in _keys(a):
            _check_same_mode(a[key], b[key], none_is_leaf)
    else:
        _check_same(a, b)


def _flatten_up_to(shallow, structure, path=()):
    """``structure``'s subtrees at the positions of ``shallow``'s leaves, in order."""
    if not _is_node(shallow):
        return [structure]
    where = f" at path {path}" if path else ""
    if not _is_node(structure):
        raise ValueError(
            f"map_structure_up_to: the shallow structure has a {type(shallow).__name__}{where} but the input has "
            f"a leaf ({_describe(structure)})"
        )
    if type(shallow) is not type(structure) and not (
        isinstance(shallow, (list, tuple)) and isinstance(structure, (list, tuple))
    ):
        raise ValueError(
            f"map_structure_up_to: node type mismatch{where}: expected {type(shallow).__name__}, "
            f"got {type(structure).__name__}"
        )
    keys = _keys(shallow)
    if isinstance(shallow, dict):
        missing = [k for k in keys if k not in structure]
        if missing:
            raise ValueError(f"map_structure_up_to: the input{where} lacks the keys {missing}")
    elif len(shallow) != len(structure):
        raise ValueError(
            f"map_structure_up_to: the shallow structure{where} has {len(shallow)} items, the input {len(structure)}"
        )
    out = []
    for key in keys:
        out.extend(_flatten_up_to(shallow[key], structure[key], path + (key,)))
    return out


def map_structure_up_to(shallow_structure, func, *structures):
    """Like :func:`map_structure`, descending only as deep as ``shallow_structure``.

    ``func`` receives the subtrees of ``structures`` found where ``shallow_structure`` has leaves.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    flats = [_flatten_up_to(shallow_structure, s) for s in structures]
    results = [func(*args) for args in zip(*flats)]
    return pack_sequence_as(shallow_structure, results)


def traverse(func, structure, top_down=True):
    """Apply ``func`` to every node and leaf of ``structure``.

    Top-down (default): ``func`` sees a node first; if it returns None the traversal goes into the
    node's children, otherwise its result replaces the whole node. Bottom-up: the children are
    traversed first and ``func`` sees the rebuilt node; None keeps it. Returning :class:`MAP_TO_NONE`
    puts ``None`` in that place.
    """

    def finish(result):
        return None if result is MAP_TO_NONE else result

    def walk(x):
        if top_down:
            result = func(x)
            if result is not None:
                return finish(result)
            if _is_node(x):
                return _rebuild(x, [walk(child) for child in _children(x)])
            return x
        rebuilt = _rebuild(x, [walk(child) for child in _children(x)]) if _is_node(x) else x
        result = func(rebuilt)
        return rebuilt if result is None else finish(result)

    return walk(structure)


def lists_to_tuples(structure):
    """``structure`` with every list (at any depth) turned into a tuple."""

    def convert(x):
        if _is_node(x):
            values = [convert(child) for child in _children(x)]
            return tuple(values) if isinstance(x, list) else _rebuild(x, values)
        return x

    return convert(structure)


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and not _is_namedtuple(x) and all(isinstance(d, int) or d is None for d in x)


def map_shape_structure(func, structure):
    """``func`` applied to each shape in a nested structure of shapes (a shape: a tuple/list of ints and None)."""

    def walk(x):
        if _is_shape(x) or not _is_node(x):
            return func(x)
        return _rebuild(x, [walk(child) for child in _children(x)])

    return walk(structure)
