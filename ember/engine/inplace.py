"""In-place writes to tensors (``x -= m``, ``x *= s``, ``x[i] = v``) with PyTorch's rule and version counters.

The rule, as PyTorch's:

* on a tensor that requires no grad, with no operand that does (or under
  ``no_grad()``, where optimizers update their weights): a plain write into
  the array;
* on a leaf that requires grad while grad mode is on: refused (the gradient
  would no longer belong to the value the leaf holds);
* otherwise (a non-leaf, or an operand that requires grad): recorded. The op
  runs out of place on the old value, the result is written into the
  tensor's array, and the tensor takes the op's place in the graph
  (``x.grad_fn`` becomes the op), so gradients flow through the write.
  One difference from PyTorch: when ``x`` is a view of another tensor's array
  (a reshape, a slice), the recorded write gives ``x`` a new array instead of
  writing through, so the other tensor keeps values that match its graph.

Every write bumps the tensor's version (``x._version``) and the process-wide
count of writes, and notes the written array (and the array it is a view of)
with the count. A function records the count at its forward (one integer:
the eager path pays nothing more); before its backward runs, the engine calls
:func:`check_writes` only if the count has moved since, which looks for its
saved arrays among those written later and raises, naming the op, the input
and the versions. The notes live as long as the arrays (weak references).
"""

from __future__ import annotations

import weakref

from . import function as _function
from .function import _LEAF, Function, _write_epoch
from .grad_mode import is_grad_enabled

# bound at the end of the import of engine/tensor.py
Tensor = _ops = None

_SYMBOLS = {
    "add": "add (+=)",
    "subtract": "subtract (-=)",
    "multiply": "multiply (*=)",
    "true_divide": "divide (/=)",
    "setitem": "assignment (x[...] = v)",
    "add.at": "add.at",
}


# id(array) -> _Writes, for every array written in place that is still alive
_written: dict = {}
_LOG = 8  # writes remembered per array (for the versions in the error message)


class _Writes:
    """The recent writes into one array: (count at the write, version before, version cell, id(tensor), node before)."""

    __slots__ = ("ref", "log")

    def __init__(self, ref):
        self.ref, self.log = ref, []


def _forget(ref, key, written=_written):
    entry = written.get(key)  # ``written`` bound early: at interpreter exit the module global may be gone
    if entry is not None and entry.ref is ref:
        del written[key]


def bump(x, node=None) -> None:
    """Count one in-place write into ``x``'s array; ``node`` is x's (grad_fn, index) before the write."""
    cell = x._vc
    if cell is None:
        cell = x._vc = [0]
    epoch = _write_epoch[0] = _write_epoch[0] + 1
    note = (epoch, cell[0], cell, id(x), node if node is not None else (x.grad_fn, x._out_index))
    cell[0] += 1
    array = x.data
    _note(array, note)
    if array.base is not None:
        _note(array.base, note)


def _note(array, note):
    entry = _written.get(id(array))
    if entry is None or entry.ref() is not array:
        key = id(array)
        try:
            ref = weakref.ref(array, lambda r, key=key, forget=_forget: forget(r, key))
        except TypeError:  # an array type without weak references: its writes go unchecked
            return
        entry = _written[key] = _Writes(ref)
    log = entry.log
    log.append(note)
    if len(log) > _LOG:
        del log[0]


def check_writes(fn) -> None:
    """Raise if an array ``fn`` saved for its backward was written in place after its forward."""
    for value in list(fn.__dict__.values()):
        if not hasattr(value, "__array_interface__") and not hasattr(value, "__cuda_array_interface__"):
            if getattr(type(value), "_ember_device", None) is None:  # the strict test device's arrays
                continue
        for a in (value,) if value.base is None else (value, value.base):
            entry = _written.get(id(a))
            if entry is None or entry.ref() is not a:
                continue
            later = [note for note in entry.log if note[0] > fn._epoch]
            if later:
                _, before, cell, tid, node = later[0]
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: {fn.op_name()} saved {_which(fn, tid, node)} at version {before}, now {cell[0]}; "
                    "use an out-of-place op (y = x - m instead of x -= m), or make the change before "
                    f"{fn.op_name()} uses the tensor"
                )


def _which(fn, tid, node):
    """'input k' or 'output k': which of ``fn``'s tensors was written, found from its node before the write."""
    prior_fn, prior_index = node
    if prior_fn is fn:
        return f"output {prior_index}"
    constants = []
    for k, edge in enumerate(fn._edges):
        if edge is None:
            constants.append(k)
        elif edge[0] == _LEAF:
            if id(edge[1]) == tid:
                return f"input {k}"
        elif edge[1] is prior_fn and edge[2] == prior_index:
            return f"input {k}"
    if prior_fn is None and len(constants) == 1:
        return f"input {constants[0]}"
    return "an input"


def _check_leaf(x, op):
    if x.requires_grad and x.grad_fn is None:
        raise RuntimeError(
            f"in-place {_SYMBOLS[op]}: a leaf tensor that requires grad is being used in an in-place operation; "
            "update weights inside `with ember.no_grad():`, or write y = x - m (out of place)"
        )


def arithmetic(x, other, op: str):
    """``x op= other`` for op in add, subtract, multiply, true_divide; returns ``x``."""
    if not (x.requires_grad or (isinstance(other, Tensor) and other.requires_grad)) or not is_grad_enabled():
        if not _function._tracing:  # the common case (weights under no_grad, plain tensors): no op, no closure
            value = other.data if isinstance(other, Tensor) else other
            getattr(x.device.xp, op)(x.data, value, out=x.data, casting="same_kind")
            bump(x)
            return x

    def plain(value):
        getattr(x.device.xp, op)(x.data, value, out=x.data, casting="same_kind")

    _write(x, op, other, _OPS[op](_ops), plain)
    return x


_OPS = {
    "add": lambda ops: ops.add,
    "subtract": lambda ops: ops.subtract,
    "multiply": lambda ops: ops.multiply,
    "true_divide": lambda ops: ops.divide,
}


def setitem(x, index, value) -> None:
    """``x[index] = value``; ``index`` holds raw arrays (no tensors)."""

    def plain(v):
        x.data[index] = v

    _write(x, "setitem", value, lambda src, v: SetItem.apply(src, v, index=index), plain)


def index_add(x, index, value) -> None:
    """``numpy.add.at(x, index, value)`` on a tensor, recorded like the other writes (backward formulas use it)."""

    def plain(v):
        x.device.xp.add.at(x.data, index, v)

    _write(x, "add.at", value, lambda src, v: IndexAdd.apply(src, v, index=index), plain)


def _write(x, op, other, out_of_place, plain):
    """Write ``op(x, other)`` into ``x``: plainly, or as an op on x's old value (in the graph, seen by a tracer).

    ``out_of_place(old_x, other)`` applies the op as a Function; ``plain(raw_other)`` writes into ``x.data``.
    """
    graph = is_grad_enabled() and (x.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
    if graph:
        _check_leaf(x, op)
    elif not (_function._tracing and _function.current_recorder() is not None):
        plain(other.data if isinstance(other, Tensor) else other)
        bump(x)
        return
    # as an op: recorded in the graph when one is wanted; while ember.compile traces a step, the tracer sees
    # the op and is told that x holds its result from here on (note_alias), so a replay follows the write
    stand_in = Tensor._wrap(x.data, x.grad_fn if graph else None, x._out_index)
    _function.note_alias(stand_in, x)  # a tracer reads x's value where the op reads the stand-in
    result = out_of_place(stand_in, other)
    if graph and result.grad_fn is not None and _keeps(result.grad_fn, x.data):
        # the op kept x's array for its backward (multiply): give it the old value instead
        stand_in = Tensor._wrap(x.data.copy(), x.grad_fn, x._out_index)
        _function.note_alias(stand_in, x)
        result = out_of_place(stand_in, other)
    _take_over(x, result, op, graph)
    _function.note_alias(x, result, written=True)  # from here on x holds the op's result


def _keeps(fn, array) -> bool:
    return any(v is array for v in fn.__dict__.values())


def _take_over(x, result, op, graph=True):
    """Write ``result`` into ``x``'s array and (with ``graph``) put ``x`` in the graph where ``result`` was."""
    if result.shape != x.shape:
        raise RuntimeError(
            f"in-place {_SYMBOLS[op]}: the result has shape {result.shape}, which does not fit the tensor's shape "
            f"{x.shape}; write it out of place (y = x op other)"
        )
    if result.dtype != x.dtype:
        raise TypeError(
            f"in-place {_SYMBOLS[op]}: the result has dtype {result.dtype}, which cannot be written into the "
            f"tensor's dtype {x.dtype}; cast first with .astype()"
        )
    node = (x.grad_fn, x._out_index)
    if graph and x.data.base is not None:
        # x views another tensor's array (a reshape, a slice): writing through would change that tensor's values
        # behind its graph, so x gets the new array instead (PyTorch writes through and rebases the other graph)
        x.data = result.data
        cell = x._vc
        if cell is None:
            x._vc = [1]
        else:
            cell[0] += 1
    else:
        x.data[...] = result.data
        bump(x, node)
    if graph:
        x.grad_fn, x._out_index, x.requires_grad = result.grad_fn, result._out_index, result.requires_grad


class SetItem(Function):
    """out = x with out[index] = v (v broadcast into the indexed region). The recorded form of ``x[index] = v``.

    Gradients: x gets g with the overwritten region zeroed; v gets g[index]
    (summed back to v's shape by the engine).
    """

    name = "setitem"
    graph_saved = {}

    def forward(self, x, v, index):
        out = x.copy()
        out[index] = v
        self.index = index
        self.overwritten = self.xp.zeros(x.shape, dtype=bool)
        self.overwritten[index] = True
        return out

    def backward(self, g):
        gx = self.xp.where(self.overwritten, 0, g) if self.needs_input_grad[0] else None
        gv = g[self.index] if self.needs_input_grad[1] else None
        return gx, gv


class IndexAdd(Function):
    """out = x with v added at ``index``, repeated positions accumulating (``numpy.add.at``).

    Gradients: x gets g; v gets g[index].
    """

    name = "index_add"
    graph_saved = {}

    def forward(self, x, v, index):
        out = x.copy()
        self.xp.add.at(out, index, v)
        self.index = index
        return out

    def backward(self, g):
        return g, (g[self.index] if self.needs_input_grad[1] else None)
