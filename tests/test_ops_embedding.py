"""Embedding lookup: forward and row-sparse gradients vs PyTorch, finite differences and Keras."""

import os

import numpy as np
import pytest
from oracles import Const, check_against_torch, check_gradients, noncontiguous

import ember
from ember.backend import to_host
from ember.engine.sparse_grad import RowSparseGrad

# (indices, vocabulary, dim): 1-D, 2-D with repeats, a single index, 3-D, an empty batch
CASES = [
    (np.array([3, 0, 4]), 5, 3),
    (np.array([[1, 2, 1], [6, 0, 1]]), 7, 4),
    (np.array([2]), 3, 1),
    (np.array([[[0, 1], [1, 1]], [[2, 0], [2, 2]]]), 3, 2),
    (np.zeros((0, 3), dtype=np.int64), 4, 2),
]


def _torch_embedding(i, w):
    import torch

    return torch.nn.functional.embedding(i, w)


@pytest.mark.parametrize("indices,vocab,dim", CASES)
def test_against_torch(indices, vocab, dim, rng):
    weights = rng.standard_normal((vocab, dim))
    check_against_torch(ember.embedding, _torch_embedding, Const(indices), weights)
    check_against_torch(ember.embedding, _torch_embedding, Const(indices.astype(np.int32)), noncontiguous(weights))


@pytest.mark.parametrize("indices,vocab,dim", CASES[:4])
def test_gradient_finite_differences(indices, vocab, dim, rng):
    check_gradients(ember.embedding, Const(indices), rng.standard_normal((vocab, dim)))


def test_alias():
    assert ember.embedding_lookup is ember.embedding


def test_gradient_is_row_sparse_with_only_looked_up_rows(rng):
    w = ember.tensor(rng.standard_normal((1000, 4)).astype(np.float32), requires_grad=True)
    idx = np.array([[5, 7], [5, 999]])
    out = ember.embedding(idx, w)
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    g = w.grad
    assert isinstance(g, RowSparseGrad)
    assert g.shape == (1000, 4)
    assert g.values.shape == (4, 4)  # one row per lookup, never vocabulary-sized
    np.testing.assert_array_equal(np.sort(to_host(g.indices)), [5, 5, 7, 999])
    dense = np.zeros((1000, 4), dtype=np.float32)
    np.add.at(dense, idx.reshape(-1), upstream.reshape(-1, 4))
    np.testing.assert_allclose(g.numpy(), dense, rtol=1e-6)
    c = g.coalesce()
    np.testing.assert_array_equal(to_host(c.indices), [5, 7, 999])
    np.testing.assert_allclose(c.numpy(), dense, rtol=1e-6)


def test_two_lookups_accumulate_sparse_plus_sparse(rng):
    torch = pytest.importorskip("torch")
    w_np = rng.standard_normal((6, 3)).astype(np.float32)
    a, b = np.array([0, 2, 2]), np.array([[2, 5], [1, 0]])
    w = ember.tensor(w_np, requires_grad=True)
    loss = (ember.embedding(a, w) ** 2).sum() + ember.embedding(b, w).sum() * 3.0
    loss.backward()
    assert isinstance(w.grad, RowSparseGrad)
    assert w.grad.values.shape[0] == a.size + b.size
    wt = torch.tensor(w_np, requires_grad=True)
    (
        (torch.nn.functional.embedding(torch.from_numpy(a), wt) ** 2).sum()
        + torch.nn.functional.embedding(torch.from_numpy(b), wt).sum() * 3.0
    ).backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lookup_first", [True, False])
def test_lookup_and_matmul_accumulate_sparse_plus_dense(lookup_first, rng):
    torch = pytest.importorskip("torch")
    w_np = rng.standard_normal((5, 3)).astype(np.float32)
    h_np = rng.standard_normal((2, 5)).astype(np.float32)
    idx = np.array([4, 1, 4])

    def ember_loss(w):
        look = (ember.embedding(idx, w) * 2.0).sum()
        mm = ember.tanh(ember.matmul(ember.tensor(h_np), w)).sum()
        return look + mm if lookup_first else mm + look

    def torch_loss(w):
        look = (torch.nn.functional.embedding(torch.from_numpy(idx), w) * 2.0).sum()
        mm = torch.tanh(torch.from_numpy(h_np) @ w).sum()
        return look + mm

    w = ember.tensor(w_np, requires_grad=True)
    ember_loss(w).backward()
    wt = torch.tensor(w_np, requires_grad=True)
    torch_loss(wt).backward()
    assert not isinstance(w.grad, RowSparseGrad)  # a dense gradient met the sparse one
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_gradient_accumulates_over_two_backward_calls(rng):
    w = ember.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    ember.embedding([1, 3], w).sum().backward()
    ember.embedding([3], w).sum().backward()
    expected = np.zeros((4, 2), dtype=np.float32)
    expected[1] = 1
    expected[3] = 2
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_lookup_of_a_computed_table_gets_a_dense_gradient_upstream(rng):
    # the table is itself an op's output: the engine densifies the sparse rows for that op
    idx = np.array([[0, 4], [4, 2]])
    check_gradients(lambda base: ember.embedding(idx, base * 3.0), rng.standard_normal((5, 2)))


def test_keras_embedding_layer_forward(rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines the Embedding layer; pip install keras")
    idx = np.array([[1, 5, 0], [3, 3, 2]])
    layer = keras.layers.Embedding(6, 4)
    layer.build(idx.shape)
    w = rng.standard_normal((6, 4)).astype(np.float32)
    layer.set_weights([w])
    expected = keras.ops.convert_to_numpy(layer(idx))
    np.testing.assert_allclose(ember.embedding(idx, ember.tensor(w)).numpy(), expected, rtol=1e-6)


def test_errors(rng):
    w = ember.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for a vocabulary of size 5"):
        ember.embedding(np.array([0, 5, 2]), w)
    with pytest.raises(IndexError, match=r"embedding: index -1 is out of range for a vocabulary of size 5"):
        ember.embedding(np.array([[0, -1]]), w)
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor"):
        ember.embedding(ember.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match=r"embedding: expected weights of rank 2 \(vocab, dim\), got shape \(5,\)"):
        ember.embedding(np.array([0]), ember.tensor(np.zeros(5, dtype=np.float32)))
