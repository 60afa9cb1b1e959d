"""BackwardWalk.straight: the walk's table unrolled into one generated function (what a compiled step's plan runs
each step) gives what ``run`` then ``gradients`` give, bit for bit and into the same buffers."""

import numpy as np
import pytest

import ember
from ember.engine.autograd import BackwardWalk


def _graph(x, w, b, c, m):
    """Broadcast sums with and without kept axes (b, c), a weight on two paths (w), a transposed leaf (m: its
    gradient arrives as a view), a function of two outputs of which one is read (split)."""
    h = ember.ops.relu(ember.ops.matmul(x, w) + b) * c
    h2 = ember.ops.matmul(x, ember.ops.transpose(m))
    first, _ = ember.ops.split(h + h2, [1], axis=1)
    return (ember.ops.sigmoid(h) * h).sum() + (first * first).mean() + (w * w).mean()


def _leaves(rng):
    shapes = {"w": (4, 3), "b": (3,), "c": (1, 3), "m": (3, 4)}
    return {k: ember.tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for k, s in shapes.items()}


@pytest.mark.host_only("drives BackwardWalk with host seed and buffer arrays")
def test_the_straight_walk_gives_runs_gradients_bit_for_bit_with_and_without_buffers():
    rng = np.random.default_rng(0)
    leaves = _leaves(rng)
    targets = list(leaves.values())
    x = ember.tensor(rng.normal(size=(5, 4)).astype(np.float32))
    loss = _graph(x, **leaves)
    walk = BackwardWalk([loss], targets)
    assert any(len(entry[3]) == 2 for entry in walk.entries)  # split's two outputs
    assert {edge[4] is None for entry in walk.entries for edge in entry[5]} == {True, False}  # broadcast sums
    straight = walk.straight(walk.entries)
    assert "def walk(seed, into)" in straight.source

    expected = walk.gradients(walk.run(walk.entries, [np.ones((), np.float32)]))
    got = straight(np.ones((), np.float32), None)
    for e, g in zip(expected, got):
        assert g.flags.owndata or g.base is None  # each the caller's own array (m's view copied)
        np.testing.assert_array_equal(g, e)

    loss.backward(retain_graph=True)  # eager on the same graph, kept for the walks below
    for leaf, g in zip(targets, got):
        np.testing.assert_array_equal(g, leaf.grad.numpy())

    for _ in range(2):  # the same buffers step after step, one of them absent
        into = [np.full(t.shape, np.nan, np.float32) for t in targets]
        into[1] = None
        into_run = [None if a is None else a.copy() for a in into]
        expected = walk.gradients(walk.run(walk.entries, [np.ones((), np.float32)], into=into_run), into_run)
        got = straight(np.ones((), np.float32), into)
        for i, (e, g) in enumerate(zip(expected, got)):
            np.testing.assert_array_equal(g, e)
            assert (g is into[i]) == (e is into_run[i])


@pytest.mark.host_only("drives BackwardWalk with host seed arrays")
def test_the_straight_walk_runs_on_rebound_functions_and_leaves_unreached_targets_none():
    rng = np.random.default_rng(1)
    leaves = _leaves(rng)
    unused = ember.tensor(np.ones((2,), np.float32), requires_grad=True)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    walk = BackwardWalk([_graph(ember.tensor(x), **leaves)], [*leaves.values(), unused])
    loss = _graph(ember.tensor(x + 1), **leaves)  # the same shape, new function objects
    straight = walk.straight(walk.rebind(BackwardWalk([loss]).order))
    got = straight(np.ones((), np.float32), None)
    assert got[-1] is None
    loss.backward()
    for leaf, g in zip(leaves.values(), got):
        np.testing.assert_array_equal(g, leaf.grad.numpy())


def test_the_straight_walk_refuses_several_roots_by_name():
    a = ember.tensor(np.ones(3, np.float32), requires_grad=True)
    walk = BackwardWalk([(a * 2).sum(), (a * 3).sum()], [a])
    with pytest.raises(ValueError, match="one root.*2 roots"):
        walk.straight(walk.entries)
