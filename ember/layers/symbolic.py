"""Symbolic tensors and nodes: how the functional API records a graph of layers.

Calling a layer on a :class:`SymbolicTensor` (what ``keras.Input`` returns)
computes no numbers: it records a :class:`Node` (the layer, the symbolic
inputs, the symbolic outputs) and returns symbolic outputs whose shapes the
layer worked out. ``Model(inputs, outputs)`` walks these nodes back from the
outputs to find the layers to run, in order.
"""

from __future__ import annotations

import numpy


class SymbolicTensor:
    """A placeholder with a shape (``None`` for unknown sizes, e.g. the batch) and a dtype.

    Attributes:
        shape: tuple of ints or None.
        dtype: a NumPy dtype.
        node: the :class:`Node` that produced it (None for an ``Input``).
        index: which output of that node it is.
        name: a readable name for errors and summaries.
    """

    def __init__(self, shape, dtype="float32", node=None, index=0, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = numpy.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name
        self.mask_shape = None  # set when the producing layer emits a mask

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # operators on symbolic tensors build small anonymous layers, as Keras does
    def _op(self, fn, *others):
        from .core.lambda_layer import TensorOp

        return TensorOp(fn)([self, *others])

    def __add__(self, other):
        return self._op(lambda a, b: a + b, other)

    def __radd__(self, other):
        return self._op(lambda a, b: b + a, other)

    def __sub__(self, other):
        return self._op(lambda a, b: a - b, other)

    def __rsub__(self, other):
        return self._op(lambda a, b: b - a, other)

    def __mul__(self, other):
        return self._op(lambda a, b: a * b, other)

    def __rmul__(self, other):
        return self._op(lambda a, b: b * a, other)

    def __truediv__(self, other):
        return self._op(lambda a, b: a / b, other)

    def __neg__(self):
        return self._op(lambda a: -a)

    def __getitem__(self, index):
        return self._op(lambda a: a[index])


class Node:
    """One call of a layer inside a functional graph.

    Attributes:
        layer: the layer called.
        inputs: the structure of the first argument (a SymbolicTensor, or a
            list/tuple/dict of them) as the layer received it.
        flat_inputs: the symbolic tensors in ``inputs``, in order.
        kwargs: the other (constant) keyword arguments of the call.
        outputs: the symbolic output structure; ``flat_outputs`` flattened.
    """

    def __init__(self, layer, inputs, kwargs, outputs):
        self.layer = layer
        self.inputs = inputs
        # the first argument's tensors, then any symbolic tensor passed beside it (positionally or by keyword),
        # so the graph knows every tensor the call reads
        beside = [t for t in flatten(list(kwargs.get("args", ())) + [v for k, v in kwargs.items() if k != "args"])]
        self.flat_inputs = flatten(inputs) + [t for t in beside if isinstance(t, SymbolicTensor)]
        self.kwargs = kwargs
        self.outputs = outputs
        self.flat_outputs = flatten(outputs)
        for i, t in enumerate(self.flat_outputs):
            t.node, t.index = self, i
        layer._inbound_nodes.append(self)

    @property
    def parent_nodes(self):
        return [t.node for t in self.flat_inputs if isinstance(t, SymbolicTensor) and t.node is not None]


def flatten(structure) -> list:
    """The leaves of a nested list/tuple/dict structure, dicts in key order of insertion."""
    if isinstance(structure, (list, tuple)):
        out = []
        for s in structure:
            out.extend(flatten(s))
        return out
    if isinstance(structure, dict):
        out = []
        for v in structure.values():
            out.extend(flatten(v))
        return out
    return [structure]


def pack_like(structure, flat: list):
    """Rebuild ``structure``'s nesting with the leaves taken in order from ``flat``."""
    return _build(structure, iter(flat))


def _build(s, it):
    """:func:`pack_like`'s recursion, a module function: a nested closure that calls itself is a reference cycle
    (function -> cell -> function) holding ``flat``'s iterator, so a step's tensors, and their graph, would live
    until the cyclic garbage collector ran."""
    if isinstance(s, (list, tuple)):
        return type(s)(_build(x, it) for x in s)
    if isinstance(s, dict):
        return {k: _build(v, it) for k, v in s.items()}
    return next(it)


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf."""
    return pack_like(structure, [fn(x) for x in flatten(structure)])


def is_symbolic(structure) -> bool:
    """True when any leaf of ``structure`` is a SymbolicTensor."""
    return any(isinstance(x, SymbolicTensor) for x in flatten(structure))
