"""Adam with a row-sparse gradient (an Embedding table's) split into parts of rows: the serial update's bits."""

import numpy as np
import pytest

import ember.optimizers as eopt
from ember.backend import workers
from ember.engine.sparse_grad import RowSparseGrad
from ember.engine.variable import Variable


@pytest.mark.host_only("the split runs the numba kernel on NumPy arrays")
def test_row_sparse_adam_in_parts_gives_the_serial_bits(monkeypatch):
    """The moments decay on every row and the gradient lands on its rows, whatever the parts (2, 3 and 9 asked
    for a 40-row table: at most 40 * 6 // 64 = 3 parts of whole rows)."""
    pytest.importorskip("numba")
    from ember.optimizers import kernels

    monkeypatch.setattr(kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(kernels, "SPLIT_MIN_SIZE", 128)
    calls = []
    real_run_parts = workers.run_parts

    def spy(run, parts):
        calls.append(list(parts))
        return real_run_parts(run, parts)

    monkeypatch.setattr(workers, "run_parts", spy)
    rng = np.random.default_rng(5)
    table = rng.normal(size=(40, 6)).astype(np.float32)
    grads = [
        RowSparseGrad(rows, rng.normal(size=(len(rows), 6)).astype(np.float32), table.shape)
        for rows in (np.array([3, 17, 3, 39, 0]), np.array([21, 22]), np.array([5, 5, 5]))
    ]

    def train(parts):
        var = Variable(table.copy(), name="emb")
        opt = eopt.Adam(learning_rate=0.01)
        with workers.forced_parts(parts):
            for g in grads:
                opt.apply([g], [var])
        return [var.numpy().copy()] + [v.numpy().copy() for v in opt.variables]

    serial = train(1)
    assert all(len(c) == 1 for c in calls)
    for parts, bounds in ((2, [(0, 20), (20, 40)]), (3, [(0, 13), (13, 26), (26, 40)]), (9, None)):
        calls.clear()
        split = train(parts)
        assert calls and all(c == (bounds or [(0, 13), (13, 26), (26, 40)]) for c in calls)
        for a, b in zip(split, serial):
            np.testing.assert_array_equal(a, b, err_msg=f"{parts} parts")


@pytest.mark.host_only("the counting coalesce and the split run numba kernels on NumPy arrays")
@pytest.mark.parametrize("parts", [1, 2, 3])
def test_parts_summing_their_own_rows_give_the_sorted_coalesce_bits(monkeypatch, parts):
    """Adam sums a row-sparse gradient's repeats inside each part of the update (RowSparseGrad.coalesce_lazily):
    the same bits as coalescing first by sorting, and as the dense gradient (np.add.at into zeros)."""
    pytest.importorskip("numba")
    from ember.engine import sparse_grad
    from ember.optimizers import kernels

    monkeypatch.setattr(kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(kernels, "SPLIT_MIN_SIZE", 128)
    rng = np.random.default_rng(11)
    table = rng.normal(size=(40, 6)).astype(np.float32)
    grads = []
    for n in (60, 7, 200):
        rows = rng.integers(0, 40, n)
        rows[::3] = rows[0]  # repeats
        values = rng.normal(size=(n, 6)).astype(np.float32) * 10.0 ** rng.integers(-3, 4, (n, 6))
        grads.append(RowSparseGrad(rows, values.astype(np.float32), table.shape))
    fills = []
    real_lazily = RowSparseGrad.coalesce_lazily

    def spy(self):
        lazy = real_lazily(self)
        fills.append(lazy is not None)
        return lazy

    monkeypatch.setattr(RowSparseGrad, "coalesce_lazily", spy)

    def train(dense=False):
        var = Variable(table.copy(), name="emb")
        opt = eopt.Adam(learning_rate=0.01)
        with workers.forced_parts(parts):
            for g in grads:
                opt.apply([g.dense_array() if dense else g], [var])
        return [var.numpy().copy()] + [v.numpy().copy() for v in opt.variables]

    lazy = train()
    assert fills == [True] * 3  # the counting path took every update
    monkeypatch.setattr(sparse_grad, "COUNTING_ROWS_PER_INDEX", 0)  # counting off: coalesce() sorts first
    fills.clear()
    sorted_first = train()
    assert fills == [False] * 3
    for a, b, c in zip(lazy, sorted_first, train(dense=True)):
        assert a.dtype == b.dtype == c.dtype and a.shape == b.shape == c.shape
        assert a.tobytes() == b.tobytes(), f"{parts} parts: lazy against sorted first"  # the same bits
        assert a.tobytes() == c.tobytes(), f"{parts} parts: lazy against the dense gradient"
