"""MXNet's ``autograd``: ``record`` / ``pause`` scopes, training mode, ``backward`` and ``grad``.

Ember records a graph whenever an input requires grad, so ``record()`` mostly sets MXNet's two flags
(recording, training); ``pause()`` turns recording off with ``ember.no_grad()``. ``backward`` follows MXNet's
``grad_req='write'``: the gradients of arrays marked with ``attach_grad()`` are overwritten, not accumulated
(``'add'`` accumulates), and a non-scalar head gets a gradient of ones.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

import ember
from ember.engine.tensor import Tensor

from .ndarray import _ATTACHED, _GRAD_SLOT, _nd

_state = threading.local()


def _get(name, default=False):
    return getattr(_state, name, default)


def is_recording() -> bool:
    """True inside ``autograd.record()`` (and not inside ``pause()``)."""
    return _get("recording")


def is_training() -> bool:
    """True when layers run in training mode (Dropout drops, BatchNorm uses batch statistics)."""
    return _get("training")


def set_recording(is_recording: bool) -> bool:
    previous = _get("recording")
    _state.recording = bool(is_recording)
    return previous


def set_training(train_mode: bool) -> bool:
    previous = _get("training")
    _state.training = bool(train_mode)
    return previous


@contextlib.contextmanager
def _scope(recording, training):
    prev_rec, prev_train = _get("recording"), _get("training")
    _state.recording = recording if recording is not None else prev_rec
    _state.training = training if training is not None else prev_train
    try:
        if _state.recording:
            with ember.enable_grad():
                yield
        else:
            with ember.no_grad():
                yield
    finally:
        _state.recording, _state.training = prev_rec, prev_train


def record(train_mode: bool = True):
    """Record the ops run inside for ``backward()``; layers run in training mode unless ``train_mode=False``."""
    return _scope(True, train_mode)


def pause(train_mode: bool = False):
    """Stop recording inside (and run layers in inference mode unless ``train_mode=True``)."""
    return _scope(False, train_mode)


def train_mode():
    """Training mode without changing recording."""
    return _scope(None, True)


def predict_mode():
    """Inference mode without changing recording."""
    return _scope(None, False)


def _graph_leaves(heads):
    """The leaf tensors the heads' recorded graph reaches (its Functions' leaf edges)."""
    from ember.engine.autograd import _topological_order
    from ember.engine.function import _LEAF

    leaves = {id(h): h for h in heads if h.grad_fn is None and h.requires_grad}
    for fn in _topological_order([h.grad_fn for h in heads if h.grad_fn is not None]):
        for edge in fn._edges:
            if edge is not None and edge[0] == _LEAF:
                leaves[id(edge[1])] = edge[1]
    return list(leaves.values())


def _clear_write_grads(leaves):
    """MXNet's grad_req='write': the leaves this backward reaches get fresh gradients (others keep theirs)."""
    for leaf in leaves:
        entry = _ATTACHED.get(id(leaf))
        if entry is not None and entry[0]() is leaf and entry[1] == "write":
            _GRAD_SLOT.__set__(leaf, None)


def _fill_missing_grads(leaves):
    for leaf in leaves:
        if id(leaf) in _ATTACHED and _GRAD_SLOT.__get__(leaf) is None:
            _GRAD_SLOT.__set__(leaf, _nd(Tensor._wrap(np.zeros_like(leaf.data))))


def backward(heads, head_grads=None, retain_graph: bool = False, train_mode: bool = True):
    """Gradients of ``heads`` (an array or a list) into the ``.grad`` of the attached arrays behind them."""
    heads = list(heads) if isinstance(heads, (list, tuple)) else [heads]
    if head_grads is None or isinstance(head_grads, Tensor):
        head_grads = [head_grads] * len(heads) if len(heads) == 1 or head_grads is None else [head_grads]
    if len(head_grads) != len(heads):
        raise ValueError(f"backward: {len(heads)} heads but {len(head_grads)} head gradients")
    for head in heads:
        if head.grad_fn is None and not head.requires_grad:
            raise RuntimeError(
                "backward: this array is not the result of a recorded computation; compute it inside "
                "`with autograd.record():` from arrays that called attach_grad() (or a block's parameters)"
            )
    leaves = _graph_leaves(heads)
    _clear_write_grads(leaves)
    for i, (head, grad) in enumerate(zip(heads, head_grads)):
        if grad is None:
            grad = np.ones(head.shape, dtype=head.data.dtype)
        elif isinstance(grad, Tensor):
            grad = grad.data
        keep = retain_graph or i < len(heads) - 1
        Tensor.backward(head, Tensor._wrap(np.asarray(grad, dtype=head.data.dtype)), retain_graph=keep)
    _fill_missing_grads(leaves)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph: bool = False, train_mode=True):
    """The gradients of ``heads`` with respect to ``variables`` (a list), without touching their ``.grad``."""
    single = isinstance(variables, Tensor)
    variables = [variables] if single else list(variables)
    heads = list(heads) if isinstance(heads, (list, tuple)) else [heads]
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif not isinstance(head_grads, (list, tuple)):
        head_grads = [head_grads]
    seeds = [
        Tensor._wrap(np.ones(h.shape, h.data.dtype) if g is None else np.asarray(getattr(g, "data", g), h.data.dtype))
        for h, g in zip(heads, head_grads)
    ]
    from ember.engine.autograd import grad as engine_grad

    results = engine_grad(heads, variables, grad_outputs=seeds, retain_graph=retain_graph, create_graph=create_graph)
    return [_nd(r) for r in results]
