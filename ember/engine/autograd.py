"""Reverse-mode differentiation: walk the graph once, from the output back.

``backward(root)`` orders the functions behind ``root`` topologically with an
explicit stack (no recursion, so graphs of any depth work), then visits each
function once, root first, summing the gradients that reach each output before
calling its ``backward``. Leaf tensors accumulate into ``.grad``. Unless
``retain_graph`` is set, each function drops its saved arrays after use, and a
second backward through it raises.

A gradient may arrive as a :class:`RowSparseGrad` (an embedding's rows); it
stays sparse on its way to a leaf and is made dense only where an op's
backward needs a dense array.
"""

from __future__ import annotations

import numpy

from .function import _LEAF
from .sparse_grad import RowSparseGrad


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the tensor to differentiate. Without ``grad`` it must hold one element.
        grad: d(loss)/d(root), same shape as ``root`` (defaults to ones for a scalar).
        retain_graph: keep saved arrays so backward can run through the graph again.
    """
    from .tensor import Tensor

    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph; "
            "create its inputs with requires_grad=True (and outside no_grad())"
        )
    xp = root.device.xp
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: grad can be implied only for a tensor with one element, got shape {root.shape}; "
                "pass grad= with the same shape"
            )
        seed = xp.ones(root.shape, dtype=root.dtype)
    else:
        seed = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"backward: grad has shape {seed.shape}, expected the tensor's shape {root.shape}")
        seed = seed.astype(root.dtype, copy=False)

    if root.grad_fn is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, seed)
        return

    pending = {id(root.grad_fn): [None] * len(root.grad_fn._out_meta)}
    pending[id(root.grad_fn)][root._out_index] = seed
    # a leaf's .grad must own its array, so an optimizer may change it in place
    given_to_leaves = set()
    for fn in _topological_order(root.grad_fn):
        if fn._freed:
            raise RuntimeError(
                f"backward: the graph through {fn.op_name()} was already freed by an earlier backward(); "
                "pass retain_graph=True to the first backward() to run it again"
            )
        grads_out = pending.pop(id(fn), None)
        if grads_out is None:  # not on a path from root
            continue
        grads_out = [_dense(fn, g, shape, dtype) for g, (shape, dtype) in zip(grads_out, fn._out_meta)]
        if fn._retained:
            for i, ref in fn._retained.items():
                t = ref()
                if t is not None:
                    t.grad = Tensor._wrap(grads_out[i])
        grads_in = fn.backward(*grads_out)
        if not isinstance(grads_in, tuple):
            grads_in = (grads_in,)
        if len(grads_in) != len(fn._edges):
            raise RuntimeError(
                f"{fn.op_name()}: backward returned {len(grads_in)} gradients for {len(fn._edges)} inputs"
            )
        for edge, g in zip(fn._edges, grads_in):
            if edge is None or g is None:
                continue
            kind, target, index, shape, dtype = edge
            if isinstance(g, numpy.generic):  # NumPy turns 0-d results into scalars
                g = numpy.asarray(g)
            if not isinstance(g, RowSparseGrad):
                g = sum_to_shape(g, shape, fn.op_name())
            if g.dtype != dtype:
                g = g.astype(dtype)
            if kind == _LEAF:
                if not isinstance(g, RowSparseGrad) and (g.base is not None or id(g) in given_to_leaves):
                    # a view (a broadcast, a slice) or an array already given to another input (add: g, g)
                    g = g.copy()
                given_to_leaves.add(id(g))
                _accumulate_leaf(target, g)
            else:
                slots = pending.setdefault(id(target), [None] * len(target._out_meta))
                slots[index] = g if slots[index] is None else slots[index] + g
        if not retain_graph:
            fn._release()


def _dense(fn, g, shape, dtype):
    """The gradient for one output of ``fn`` as a dense array (zeros if nothing reached it)."""
    if g is None:
        return fn.xp.zeros(shape, dtype=dtype)
    if isinstance(g, RowSparseGrad):
        return g.dense_array()
    return g


def _accumulate_leaf(leaf, g) -> None:
    """Add ``g`` to ``leaf.grad``; a row-sparse gradient stays sparse until it meets a dense one."""
    from .tensor import Tensor

    old = leaf.grad
    if old is None:
        leaf.grad = g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)
    elif isinstance(old, RowSparseGrad):
        total = old + g
        leaf.grad = total if isinstance(total, RowSparseGrad) else Tensor._wrap(total)
    else:
        leaf.grad = Tensor._wrap(old.data + g)  # a new array: g may alias another buffer


def _topological_order(start):
    """Functions reachable from ``start``, each before every function it depends on."""
    order, visited = [], set()
    stack = [(start, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for edge in fn._edges:
            if edge is not None and edge[0] != _LEAF and id(edge[1]) not in visited:
                stack.append((edge[1], False))
    order.reverse()
    return order


def sum_to_shape(g, shape, op: str = "backward"):
    """Sum a broadcast gradient ``g`` back down to ``shape`` (the input's shape)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"{op}: gradient of shape {g.shape} cannot be reduced to input shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(g.shape[lead:])
    if g.shape != shape:
        raise RuntimeError(f"{op}: gradient of shape {g.shape} does not match input shape {shape}")
    return g
