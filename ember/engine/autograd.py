"""Reverse-mode differentiation: walk the graph once, from the outputs back.

``backward(root)`` orders the functions behind ``root`` topologically with an
explicit stack (no recursion, so graphs of any depth work), then visits each
function once, root first, summing the gradients that reach each output before
calling its ``backward``. Leaf tensors accumulate into ``.grad``. Unless
``retain_graph`` is set, each function drops its saved arrays after use, and a
second backward through it raises.

``grad(outputs, inputs)`` walks the same way but only through the functions
that lead to ``inputs``, and returns their gradients instead of touching
``.grad``.

With ``create_graph=True`` the walk itself is recorded: gradients are tensors
with a ``grad_fn``, so they can be differentiated again (gradient penalties,
Hessian-vector products). Each op runs its one backward formula on tensors
instead of arrays: the engine hands it a copy of the function whose saved
arrays are replaced by tensors linked to the graph (as the op's
``graph_saved`` declares) and whose ``xp`` is :data:`graph_xp.GRAPH_XP`, the
NumPy-named functions on tensors. An op without a ``graph_saved`` declaration
has no differentiable backward and is refused by name.

Before an op's backward runs, the engine checks that no array it saved was
written in place since its forward (``x += 1`` in between would make the
gradient wrong): it raises instead, naming the op and the versions
(engine/inplace.py).

A gradient may arrive as a :class:`RowSparseGrad` (an embedding's rows); it
stays sparse on its way to a leaf and is made dense only where an op's
backward needs a dense array.
"""

from __future__ import annotations

import numpy

from .function import _LEAF, _write_epoch
from .grad_mode import enable_grad
from .inplace import check_writes
from .sparse_grad import RowSparseGrad

# bound at the end of the import of engine/tensor.py (which imports this module's importers)
Tensor = None


def backward(root, grad=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the tensor to differentiate. Without ``grad`` it must hold one element.
        grad: d(loss)/d(root), same shape as ``root`` (defaults to ones for a scalar).
        retain_graph: keep saved arrays so backward can run through the graph again
            (defaults to ``create_graph``).
        create_graph: record the backward pass, so the gradients (``.grad``) are
            tensors with a graph that can be differentiated again.
    """
    if retain_graph is None:
        retain_graph = create_graph
    _run("backward", [root], [grad], bool(retain_graph), bool(create_graph), None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor or a sequence of tensors (leaves or intermediate results).
        grad_outputs: the vector(s) in the vector-Jacobian product, one per output, same shapes
            (None: ones, allowed for one-element outputs only).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass so the returned gradients can be differentiated again.
        allow_unused: return None for an input the outputs do not depend on (otherwise an error).

    Returns:
        a tuple with one gradient tensor per input (shape of the input), or None for an unused input
        when ``allow_unused``. ``.grad`` of the leaves is left untouched.

    Example:
        >>> (gx,) = ember.grad((x ** 3).sum(), x, create_graph=True)   # 3 x^2, with a graph
        >>> (gxx,) = ember.grad(gx.sum(), x)                            # 6 x
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] must be a tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: inputs[{i}] (shape {t.shape}) does not require grad; create it with requires_grad=True"
            )
    if retain_graph is None:
        retain_graph = create_graph
    found = _run("grad", outputs, grad_outputs, bool(retain_graph), bool(create_graph), inputs)
    result, given = [], set()
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: inputs[{i}] (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
            continue
        if isinstance(g, RowSparseGrad):
            g = g.dense_array()
        if not isinstance(g, Tensor):
            if g.base is not None or id(g) in given:
                g = g.copy()  # a view (a broadcast) or an array already returned for another input: own it
            given.add(id(g))
            g = Tensor._wrap(g)
        result.append(g)
    return tuple(result)


def _seed(op, root, grad, create_graph):
    """The starting gradient d(out)/d(root): an array, or a tensor under ``create_graph``."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{op}: expected tensors to differentiate, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            f"{op}: this tensor does not require grad and has no graph; "
            "create its inputs with requires_grad=True (and outside no_grad())"
        )
    xp = root.device.xp
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implied only for a tensor with one element, got shape {root.shape}; "
                "pass grad= with the same shape"
            )
        seed = xp.ones(root.shape, dtype=root.dtype)
    elif isinstance(grad, Tensor) and create_graph:
        if grad.shape != root.shape:
            raise ValueError(f"{op}: grad has shape {grad.shape}, expected the tensor's shape {root.shape}")
        return grad if grad.dtype == root.dtype else grad.astype(root.dtype)
    else:
        seed = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"{op}: grad has shape {seed.shape}, expected the tensor's shape {root.shape}")
        seed = seed.astype(root.dtype, copy=False)
    return Tensor._wrap(seed) if create_graph else seed


def _run(op, roots, grads, retain_graph, create_graph, inputs):
    """The shared walk of ``backward`` and ``grad``; returns the gradients of ``inputs`` (a list) when given."""
    seeds = [_seed(op, r, g, create_graph) for r, g in zip(roots, grads)]
    # grad(): where the gradient of each input is caught instead of flowing on
    capture = found = None
    if inputs is not None:
        found = [None] * len(inputs)
        capture = {}
        for k, t in enumerate(inputs):
            key = id(t) if t.grad_fn is None else (id(t.grad_fn), t._out_index)
            capture.setdefault(key, []).append(k)

    pending = {}
    starts = []
    for root, seed in zip(roots, seeds):
        fn = root.grad_fn
        if fn is None:  # a leaf: its gradient is the seed itself
            if capture is None:
                _accumulate_leaf(root, seed if create_graph else seed.copy(), create_graph)
            else:
                _catch(found, capture.get(id(root), ()), seed)
            continue
        slots = pending.setdefault(id(fn), [None] * len(fn._out_meta))
        i = root._out_index
        slots[i] = seed if slots[i] is None else slots[i] + seed
        starts.append(fn)
    if not starts:
        return found
    order = _topological_order(starts)
    useful = None if capture is None else _leading_to(order, capture)
    # a leaf's .grad must own its array, so an optimizer may change it in place
    given_to_leaves = set()
    for fn in order:
        grads_out = pending.pop(id(fn), None)
        if grads_out is None:  # not on a path from a root
            continue
        grads_out = [_dense(fn, g, shape, dtype, create_graph) for g, (shape, dtype) in zip(grads_out, fn._out_meta)]
        if fn._retained:
            for i, ref in fn._retained.items():
                t = ref()
                if t is not None:
                    t.grad = grads_out[i] if create_graph else Tensor._wrap(grads_out[i])
        if capture is not None:
            for i, g in enumerate(grads_out):
                _catch(found, capture.get((id(fn), i), ()), g)
            if id(fn) not in useful:
                continue
        if fn._freed:
            raise RuntimeError(
                f"{op}: the graph through {fn.op_name()} was already freed by an earlier backward(); "
                "pass retain_graph=True to the first backward() to run it again"
            )
        if fn._epoch is not None and fn._epoch != _write_epoch[0]:  # something was written in place since
            check_writes(fn)
        if create_graph:
            grads_in = _graph_backward(fn, grads_out)
        else:
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
            if useful is not None and not _wanted(kind, target, index, useful, capture):
                continue
            g = fit_gradient(g, shape, dtype, fn.op_name())
            if kind == _LEAF:
                if capture is not None:
                    _catch(found, capture.get(id(target), ()), g)
                    continue
                if not create_graph and not isinstance(g, RowSparseGrad):
                    if g.base is not None or id(g) in given_to_leaves:
                        # a view (a broadcast, a slice) or an array already given to another input (add: g, g)
                        g = g.copy()
                    given_to_leaves.add(id(g))
                _accumulate_leaf(target, g, create_graph)
            else:
                slots = pending.setdefault(id(target), [None] * len(target._out_meta))
                slots[index] = g if slots[index] is None else slots[index] + g
        if not retain_graph:
            fn._release()
    return found


def _catch(found, slots, g):
    """grad(): add ``g`` to the result of each input in ``slots``."""
    for k in slots:
        found[k] = g if found[k] is None else found[k] + g


def _leading_to(order, capture):
    """Ids of the functions through which a gradient reaches an input of ``grad()`` (the rest is skipped).

    ``order`` has every function before those it depends on, so walking it
    backwards sees a function's producers before the function itself.
    """
    useful = set()
    for fn in reversed(order):
        for edge in fn._edges:
            if edge is None:
                continue
            if edge[0] == _LEAF:
                if id(edge[1]) in capture:
                    useful.add(id(fn))
                    break
            elif id(edge[1]) in useful or (id(edge[1]), edge[2]) in capture:
                useful.add(id(fn))
                break
    return useful


def _wanted(kind, target, index, useful, capture):
    """Whether grad() needs the gradient on this edge: it reaches an input, now or further up."""
    if kind == _LEAF:
        return id(target) in capture
    return id(target) in useful or (id(target), index) in capture


def _graph_backward(fn, grads_out):
    """Run ``fn``'s backward formula on tensors, recording it; raise if the op has none."""
    from . import graph_xp

    cls = type(fn)
    spec = getattr(cls, "graph_saved", None)
    if spec is None:
        raise RuntimeError(
            f"backward with create_graph=True: {fn.op_name()} has no differentiable backward, "
            "so gradients through it cannot be differentiated again; use create_graph=False, "
            "or keep this op out of the part of the model that is differentiated twice"
        )
    shadow = cls.__new__(cls)
    state = shadow.__dict__
    state.update(fn.__dict__)
    state["xp"] = graph_xp.GRAPH_XP
    for name, where in spec.items():
        array = state.get(name)
        if array is None or isinstance(array, Tensor):
            continue
        state[name] = _saved_tensor(fn, where, array)
    grads_out = [g if isinstance(g, Tensor) else Tensor._wrap(g) for g in grads_out]
    derive = getattr(shadow, "graph_derive", None)
    try:
        with enable_grad():
            if derive is not None:  # saved values computed from the inputs, rebuilt as tensors
                derive()
            grads_in = shadow.backward(*grads_out)
    except graph_xp.NoGraphFormError as err:
        raise RuntimeError(
            f"backward with create_graph=True: {fn.op_name()}'s backward uses {err.args[0]}, which has no "
            "differentiable form; use create_graph=False for this op"
        ) from None
    if not isinstance(grads_in, tuple):
        grads_in = (grads_in,)
    for g in grads_in:
        if g is not None and not isinstance(g, Tensor):  # computed on raw arrays: it would be detached
            raise RuntimeError(
                f"backward with create_graph=True: {fn.op_name()}'s backward returned an array, not a tensor of "
                "the graph, so its gradient cannot be differentiated again; use create_graph=False for this op"
            )
    return grads_in


def graph_input(fn, k, array):
    """For an op's ``graph_derive``: input ``k`` of ``fn`` as a tensor of the graph, holding ``array``.

    ``array`` must hold the input's values (an op that did not keep the input rebuilds them from what it kept).
    """
    return _saved_tensor(fn, k, array)


def _saved_tensor(fn, where, array):
    """The tensor, linked into the graph, whose array ``fn`` saved: input ``where`` (an int) or output ``where[1]``."""
    if isinstance(where, int):
        edge = fn._edges[where]
        if edge is None:
            return Tensor._wrap(array)
        if edge[0] == _LEAF:
            return edge[1]  # the leaf itself, so gradients reach it
        return Tensor._wrap(array, edge[1], edge[2])
    return Tensor._wrap(array, fn, where[1])


def fit_gradient(g, shape, dtype, op: str = "backward"):
    """An input's gradient as its edge wants it (the engine's walk and ember.compile's plans alike).

    NumPy's 0-d scalars become arrays, a broadcast gradient is summed down to ``shape``
    (:func:`sum_to_shape`; row-sparse ones are kept), and the dtype is the input's.
    """
    if isinstance(g, numpy.generic):  # NumPy turns 0-d results into scalars
        g = numpy.asarray(g)
    if not isinstance(g, RowSparseGrad):
        g = sum_to_shape(g, shape, op)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _dense(fn, g, shape, dtype, create_graph=False):
    """The gradient for one output of ``fn`` as a dense array (zeros if nothing reached it)."""
    if g is None:
        zeros = fn.xp.zeros(shape, dtype=dtype)
        if create_graph:
            return Tensor._wrap(zeros)
        return zeros
    if isinstance(g, RowSparseGrad):
        return g.dense_array()
    return g


def _accumulate_leaf(leaf, g, create_graph=False) -> None:
    """Add ``g`` to ``leaf.grad``; a row-sparse gradient stays sparse until it meets a dense one."""
    old = leaf.grad
    if create_graph:
        if isinstance(old, RowSparseGrad):
            old = Tensor._wrap(old.dense_array())
        leaf.grad = g if old is None else old + g
        return
    if isinstance(g, Tensor):  # a seed given as a tensor for a root that is itself a leaf
        g = g.data
    if old is None:
        leaf.grad = g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)
    elif isinstance(old, RowSparseGrad):
        total = old + g
        leaf.grad = total if isinstance(total, RowSparseGrad) else Tensor._wrap(total)
    else:
        leaf.grad = Tensor._wrap(old.data + g)  # a new array: g may alias another buffer


def _topological_order(starts, inside=None):
    """Functions reachable from ``starts`` (a list), each before every function it depends on.

    ``inside``: optional ids of functions to keep; the walk neither starts at nor expands any other (hybridize
    walks only the functions its trace recorded).
    """
    order, visited = [], set()
    stack = [(fn, False) for fn in reversed(starts) if inside is None or (fn is not None and id(fn) in inside)]
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
                if inside is None or id(edge[1]) in inside:
                    stack.append((edge[1], False))
    order.reverse()
    return order


def sum_to_shape(g, shape, op: str = "backward"):
    """Sum a broadcast gradient ``g`` (an array, or a tensor under create_graph) back down to ``shape``."""
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
