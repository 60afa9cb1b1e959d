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

Every write bumps the tensor's version (``x._version``). A function that saved
the tensor's array for its backward recorded the version at its forward
(engine/function.py); its backward refuses to run on a changed array
(engine/autograd.py). Known limit: a tensor that is a view of another's data
(a reshape) shares its array but not its version, so a write through the view
is not seen by functions that saved the other tensor.
"""

from __future__ import annotations

from .function import Function
from .grad_mode import is_grad_enabled

_SYMBOLS = {
    "add": "add (+=)",
    "subtract": "subtract (-=)",
    "multiply": "multiply (*=)",
    "true_divide": "divide (/=)",
    "setitem": "assignment (x[...] = v)",
    "add.at": "add.at",
}


def bump(x) -> None:
    """Count one in-place write to ``x``."""
    cell = x._vc
    if cell is None:
        x._vc = [1]
    else:
        cell[0] += 1


def _check_leaf(x, op):
    if x.requires_grad and x.grad_fn is None:
        raise RuntimeError(
            f"in-place {_SYMBOLS[op]}: a leaf tensor that requires grad is being used in an in-place operation; "
            "update weights inside `with ember.no_grad():`, or write y = x - m (out of place)"
        )


def arithmetic(x, other, op: str):
    """``x op= other`` for op in add, subtract, multiply, true_divide; returns ``x``."""
    from .tensor import Tensor, _ops

    if is_grad_enabled() and (x.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
        _check_leaf(x, op)
        src = Tensor._wrap(x.data, x.grad_fn, x._out_index)
        result = _OPS[op](_ops)(src, other)
        if src._vc is not None:  # the op kept x's array for its backward (multiply): give it the old value
            result = _OPS[op](_ops)(Tensor._wrap(x.data.copy(), x.grad_fn, x._out_index), other)
        _take_over(x, result, op)
        return x
    value = other.data if isinstance(other, Tensor) else other
    getattr(x.device.xp, op)(x.data, value, out=x.data, casting="same_kind")
    bump(x)
    return x


_OPS = {
    "add": lambda ops: ops.add,
    "subtract": lambda ops: ops.subtract,
    "multiply": lambda ops: ops.multiply,
    "true_divide": lambda ops: ops.divide,
}


def setitem(x, index, value) -> None:
    """``x[index] = value``; ``index`` holds raw arrays (no tensors)."""
    from .tensor import Tensor

    if is_grad_enabled() and (x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        _check_leaf(x, "setitem")
        result = SetItem.apply(Tensor._wrap(x.data, x.grad_fn, x._out_index), value, index=index)
        _take_over(x, result, "setitem")
        return
    x.data[index] = value.data if isinstance(value, Tensor) else value
    bump(x)


def index_add(x, index, value) -> None:
    """``numpy.add.at(x, index, value)`` on a tensor, recorded like the other writes (backward formulas use it)."""
    from .tensor import Tensor

    if is_grad_enabled() and (x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        _check_leaf(x, "add.at")
        result = IndexAdd.apply(Tensor._wrap(x.data, x.grad_fn, x._out_index), value, index=index)
        _take_over(x, result, "add.at")
        return
    x.device.xp.add.at(x.data, index, value.data if isinstance(value, Tensor) else value)
    bump(x)


def _take_over(x, result, op):
    """Write ``result`` into ``x``'s array and put ``x`` in the graph where ``result`` was."""
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
    x.data[...] = result.data
    bump(x)
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
