"""ember.tree against keras.tree (Keras 3 on torch) on nested lists, tuples, named tuples and dicts."""

import collections
import os

import numpy as np
import pytest

from ember import tree

os.environ.setdefault("KERAS_BACKEND", "torch")

Point = collections.namedtuple("Point", "y x")

# no dict directly inside a dict: Keras's torch tree sorts only the outer one of those (see test below)
STRUCTURES = [
    1,
    None,
    "text",
    [],
    {},
    [1, (2, None), [3, [4, 5]]],
    {"b": [1, (2, 3)], "a": Point(4, [5, 6]), "c": collections.OrderedDict([("q", 7), ("p", 8)])},
    (Point(1, 2), [{"z": 3, "y": (4,)}], None),
    {"k": 1, "j": collections.defaultdict(list)},
]


@pytest.fixture(scope="module")
def ktree():
    keras = pytest.importorskip("keras", reason="the oracle is keras.tree from Keras 3")
    return keras.tree


@pytest.mark.parametrize("structure", STRUCTURES, ids=range(len(STRUCTURES)))
def test_flatten_pack_and_is_nested_match_keras(ktree, structure):
    assert tree.flatten(structure) == ktree.flatten(structure)
    assert tree.is_nested(structure) == ktree.is_nested(structure)
    n = len(tree.flatten(structure))
    values = list(range(100, 100 + n))
    ours = tree.pack_sequence_as(structure, values)
    theirs = ktree.pack_sequence_as(structure, values)
    assert ours == theirs and type(ours) is type(theirs)
    assert tree.flatten(ours) == values


@pytest.mark.parametrize("structure", STRUCTURES[:6] + STRUCTURES[8:], ids=range(7))
def test_flatten_with_path_matches_keras(ktree, structure):
    # named tuples excluded from the comparison: Keras on torch numbers their fields in sorted-name order
    assert tree.flatten_with_path(structure) == ktree.flatten_with_path(structure)


def test_namedtuple_paths_are_positions():
    assert tree.flatten_with_path(Point(1, 2)) == [((0,), 1), ((1,), 2)]


@pytest.mark.parametrize("structure", STRUCTURES, ids=range(len(STRUCTURES)))
def test_map_structure_matches_keras(ktree, structure):
    def func(x, y):
        return (x, y)

    assert tree.map_structure(func, structure, structure) == ktree.map_structure(func, structure, structure)
    assert tree.map_structure(str, structure, none_is_leaf=False) == ktree.map_structure(
        str, structure, none_is_leaf=False
    )


def test_every_dict_is_sorted_at_any_depth():
    assert tree.flatten({"b": {"z": 1, "y": 2}, "a": 0}) == [0, 2, 1]
    assert tree.flatten([{"z": 1, "y": 2}]) == [2, 1]


def test_structure_mismatches_raise_like_keras(ktree):
    cases = [([1, 2], (1, 2)), ([1, 2], [1, [2]]), ({"a": 1}, {"b": 1}), ([1], [1, 2])]
    for a, b in cases:
        with pytest.raises(ValueError):
            ktree.assert_same_structure(a, b)
        with pytest.raises(ValueError, match="same nested structure"):
            tree.assert_same_structure(a, b)
        with pytest.raises(ValueError):
            tree.map_structure(lambda x, y: x, a, b)
    assert tree.assert_same_structure([1, {"a": (2,)}], ["x", {"a": ("y",)}]) is None
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(lambda x: x)
    with pytest.raises(ValueError, match="has 2 leaves but flat_sequence has 1"):
        tree.pack_sequence_as([1, 2], [1])


def test_assert_same_paths_matches_keras(ktree):
    ktree.assert_same_paths([1, (2,)], [5, [6]])
    tree.assert_same_paths([1, (2,)], [5, [6]])
    with pytest.raises(ValueError, match="don't have the same paths"):
        tree.assert_same_paths({"a": 1}, {"b": 1})
    with pytest.raises(ValueError):
        ktree.assert_same_paths({"a": 1}, {"b": 1})


def test_map_structure_up_to_matches_keras(ktree):
    shallow = [1, [2, 3]]
    deep = [[1, 2], [3, [4]]]
    assert tree.map_structure_up_to(shallow, str, deep) == ktree.map_structure_up_to(shallow, str, deep)
    shallow = {"a": 0, "b": 0}
    deep = {"a": [1, 2], "b": (3, 4)}
    assert tree.map_structure_up_to(shallow, len, deep) == ktree.map_structure_up_to(shallow, len, deep)


def test_traverse_matches_keras(ktree):
    s = [1, (2, 3), {"a": 4}]

    def double(x):
        return x * 2 if isinstance(x, int) else None

    def drop_ints(x):
        return tree.MAP_TO_NONE if isinstance(x, int) else None

    def kdrop_ints(x):
        return ktree.MAP_TO_NONE if isinstance(x, int) else None

    def collapse_tuples(x):
        return "T" if isinstance(x, tuple) else None

    assert tree.traverse(double, s) == ktree.traverse(double, s) == [2, (4, 6), {"a": 8}]
    for top_down in (True, False):
        assert tree.traverse(drop_ints, s, top_down=top_down) == ktree.traverse(kdrop_ints, s, top_down=top_down)
        assert tree.traverse(collapse_tuples, s, top_down=top_down) == ktree.traverse(
            collapse_tuples, s, top_down=top_down
        )


def test_lists_to_tuples_and_shapes_match_keras(ktree):
    s = [1, [2, {"a": [3]}], (4, [5])]
    assert tree.lists_to_tuples(s) == ktree.lists_to_tuples(s)
    shapes = {"a": (None, 3), "b": [(2,), [4, 5]], "c": ()}
    assert tree.map_shape_structure(lambda s: s, shapes) == ktree.map_shape_structure(lambda s: s, shapes)
    assert (
        tree.map_shape_structure(len, shapes)
        == ktree.map_shape_structure(len, shapes)
        == {
            "a": 2,
            "b": [1, 2],
            "c": 0,
        }
    )


def test_arrays_are_leaves():
    a = np.ones(3)
    assert tree.flatten([a, {"x": a}])[0] is a
    assert not tree.is_nested(a) and not tree.is_nested({1, 2})
