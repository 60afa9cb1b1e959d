"""RowSparseGrad.coalesce: np.add.at's sums, bit for bit, on the numba kernel and on the NumPy path."""

import numpy as np
import pytest

from ember.backend import jit
from ember.engine.sparse_grad import RowSparseGrad


@pytest.fixture(params=[True, False], ids=["jit", "numpy"])
def path(request):
    previous = jit.set_enabled(request.param)
    yield request.param
    jit.set_enabled(previous)


def _reference(indices, values, shape):
    rows = np.unique(indices)
    dense = np.zeros(shape, dtype=values.dtype)
    np.add.at(dense, indices, values)
    return rows, dense[rows], dense


CASES = [
    # (indices, row shape)
    ("uniform", (7,)),
    ("zipf", (5,)),
    ("all the same", (3,)),
    ("empty", (4,)),
    ("uniform", ()),
    ("uniform", (2, 3)),
]


@pytest.mark.parametrize("kind,row_shape", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_coalesce_equals_add_at(kind, row_shape, dtype, path, rng):
    vocab = 50
    n = {"empty": 0}.get(kind, 400)
    if kind == "zipf":
        indices = np.minimum(rng.zipf(1.3, n), vocab) - 1
    elif kind == "all the same":
        indices = np.full(n, 7)
    else:
        indices = rng.integers(0, vocab, n)
    indices = indices.astype(np.int32)
    values = rng.standard_normal((n, *row_shape)).astype(dtype) * 10.0 ** rng.integers(-3, 4, (n, *row_shape))
    grad = RowSparseGrad(indices, values, (vocab, *row_shape))
    rows, summed, dense = _reference(indices, values, (vocab, *row_shape))
    c = grad.coalesce()
    np.testing.assert_array_equal(c.indices, rows)
    assert c.values.dtype == values.dtype and c.values.shape == summed.shape
    np.testing.assert_array_equal(c.values, summed)  # the same bits: the same order of additions
    np.testing.assert_array_equal(grad.dense_array(), dense)


def test_coalesce_of_strided_values_and_two_dimensional_indices(path, rng):
    indices = rng.integers(0, 9, (6, 5))
    values = rng.standard_normal((30, 8)).astype("float32")[:, ::2]
    grad = RowSparseGrad(indices.reshape(-1), values, (9, 4))
    rows, summed, _ = _reference(indices.reshape(-1), values, (9, 4))
    c = grad.coalesce()
    np.testing.assert_array_equal(c.indices, rows)
    np.testing.assert_array_equal(c.values, summed)


@pytest.mark.parametrize("vocab", [20, 400, 5000, 100_000])  # counting up to 32 rows per index, sorting past it
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_counting_and_sorting_give_the_same_bits(vocab, dtype, path, rng):
    from ember.engine import sparse_grad

    n = 150
    indices = rng.integers(0, vocab, n).astype(np.int64)
    indices[::5] = indices[0]  # repeats of one row, spread through the batch
    values = rng.standard_normal((n, 6)).astype(dtype) * 10.0 ** rng.integers(-4, 5, (n, 6))
    rows, summed, _ = _reference(indices, values, (vocab, 6))
    counted = sparse_grad._coalesce_by_counting(indices, values, vocab)
    assert (counted is not None) == (path and vocab <= sparse_grad.COUNTING_ROWS_PER_INDEX * n)
    for got_rows, got in [counted or (rows, summed), sparse_grad._coalesce(np, indices, values)]:
        np.testing.assert_array_equal(got_rows, rows)
        assert got_rows.dtype == indices.dtype
        np.testing.assert_array_equal(got.view(np.uint8), summed.view(np.uint8))  # bits, signed zeros included
    c = RowSparseGrad(indices, values, (vocab, 6)).coalesce()
    np.testing.assert_array_equal(c.values.view(np.uint8), summed.view(np.uint8))


def test_signed_zeros_sum_from_zero_as_add_at(path):
    indices = np.array([3, 1, 3], dtype=np.int32)
    values = np.array([[-0.0], [-0.0], [-0.0]], dtype=np.float32)
    c = RowSparseGrad(indices, values, (5, 1)).coalesce()
    dense = np.zeros((5, 1), dtype=np.float32)
    np.add.at(dense, indices, values)  # 0.0 + -0.0 is +0.0
    np.testing.assert_array_equal(np.signbit(c.values), np.signbit(dense[[1, 3]]))


def test_an_index_outside_the_table_falls_back_to_sorting(path):
    from ember.engine import sparse_grad

    indices = np.array([2, 7, 2], dtype=np.int64)  # 7 is past a 5-row table: counting must not write there
    values = np.ones((3, 2), dtype=np.float32)
    assert sparse_grad._coalesce_by_counting(indices, values, 5) is None
    rows, summed = sparse_grad._coalesce(np, indices, values, 5)
    np.testing.assert_array_equal(rows, [2, 7])
    np.testing.assert_array_equal(summed, [[2.0, 2.0], [1.0, 1.0]])
    assert sparse_grad._coalesce_by_counting(np.array([-1, 0]), values[:2], 5) is None
