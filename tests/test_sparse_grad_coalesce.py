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
