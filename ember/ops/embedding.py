"""Embedding lookup: rows of a (vocabulary, dim) table picked by integer indices.

The gradient of a lookup touches only the rows that were read, so the backward
returns them as a :class:`~ember.engine.sparse_grad.RowSparseGrad` (the
flattened indices and one gradient row per index) instead of a dense
vocabulary-sized array; the engine keeps it sparse up to the table's ``.grad``.
"""

from __future__ import annotations

from ..engine.function import Function
from ..engine.sparse_grad import RowSparseGrad

__all__ = ["embedding", "embedding_lookup"]


class Embedding(Function):
    """out[..., :] = weights[indices[...], :].

    Shapes: indices (batch, ...) integer, each in ``[0, vocab)``; weights
    (vocab, dim); out (batch, ..., dim). Backward: no gradient for indices;
    for weights a RowSparseGrad with rows ``indices.ravel()`` (repeats sum)
    and values ``g.reshape(-1, dim)``.
    """

    def forward(self, indices, weights):
        xp = self.xp
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be an integer tensor, got dtype {indices.dtype}")
        if weights.ndim != 2:
            raise ValueError(f"embedding: expected weights of rank 2 (vocab, dim), got shape {weights.shape}")
        vocab = weights.shape[0]
        if indices.size:
            low, high = indices.min().item(), indices.max().item()
            if low < 0 or high >= vocab:
                bad = low if low < 0 else high
                raise IndexError(
                    f"embedding: index {bad} is out of range for a vocabulary of size {vocab} "
                    f"(indices must be in [0, {vocab}))"
                )
        if self.needs_input_grad[1]:
            self.rows = indices.reshape(-1)
            self.weights_shape = weights.shape
        return xp.take(weights, indices, axis=0)

    graph_saved = {}

    def backward(self, g):
        dim = self.weights_shape[1]
        if getattr(self.xp, "graph", False):  # create_graph: a dense gradient, rows added with Ember ops
            gw = self.xp.zeros(self.weights_shape, dtype=g.dtype)
            self.xp.add.at(gw, self.rows, g.reshape(-1, dim))
            return None, gw
        return None, RowSparseGrad(self.rows, g.reshape(-1, dim), self.weights_shape)


def embedding(indices, weights):
    """Look up rows of ``weights`` (vocab, dim) at integer ``indices`` (any shape) -> (..., dim).

    An index outside ``[0, vocab)`` raises an IndexError naming it. The
    gradient reaching ``weights.grad`` is a :class:`RowSparseGrad` holding only
    the looked-up rows (``.numpy()`` gives the dense view).
    """
    from ..engine.tensor import Tensor

    if not isinstance(indices, Tensor):
        device = weights.device if isinstance(weights, Tensor) else None
        indices = Tensor(indices, device=device)
    return Embedding.apply(indices, weights)


embedding_lookup = embedding
