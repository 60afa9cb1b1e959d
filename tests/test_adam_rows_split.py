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
