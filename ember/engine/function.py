"""``Function``: one differentiable op, forward and backward in one class.

An op subclasses :class:`Function` and writes two methods on raw arrays:

``forward(self, *arrays, **attrs)``
    computes the output array (or a tuple of arrays) and keeps on ``self``
    whatever ``backward`` needs. ``self.xp`` is the array module of the inputs'
    device; ``self.needs_input_grad`` says which inputs want a gradient.
``backward(self, *grad_outputs)``
    gets one gradient array per output (zeros for outputs nobody used) and
    returns one gradient per input (``None`` where none is needed). A gradient
    may keep the broadcast shape of the output: the engine sums it back to the
    input's shape.

``Function.apply(*inputs, **attrs)`` turns the inputs into tensors on one
device, checks their dtypes, runs ``forward`` and, when grad mode is on and an
input requires grad, links the outputs into the graph. The graph holds
functions only; intermediate tensors are not kept alive by it.
"""

from __future__ import annotations

import numbers

import numpy

from .dtypes import is_floating
from .grad_mode import is_grad_enabled

# Edge kinds in Function._edges: where an input's gradient goes.
_LEAF = 0  # accumulate into a leaf tensor's .grad
_NODE = 1  # pass on to the function that produced the input
_NDARRAY = numpy.ndarray


class Function:
    """Base class of every differentiable op.

    Class attributes subclasses may set:
        name: the op name used in error messages (default: class name, lower case).
        promote: cast integer/bool tensor inputs to the float dtype of the other
            inputs (arithmetic does; indexing does not).
    """

    name: str | None = None
    promote: bool = False

    # graph bookkeeping, set by apply(); everything else on the instance is
    # the op's own saved state and is dropped when the graph is freed
    _GRAPH_ATTRS = ("_edges", "_out_meta", "_retained", "_freed", "needs_input_grad", "xp", "device")

    def forward(self, *arrays, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{self.op_name()}: backward is not defined")

    @classmethod
    def op_name(cls) -> str:
        return cls.name or cls.__name__.lower()

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on ``inputs`` (tensors, arrays or scalars) and record it."""
        from .tensor import Tensor

        tensors = _as_tensors(cls, inputs, cls.promote)
        fn = cls.__new__(cls)
        ref = tensors[0] if tensors else None
        fn.device = ref.device if ref is not None else None
        fn.xp = fn.device.xp if ref is not None else numpy
        record = is_grad_enabled() and any(t.requires_grad for t in tensors)
        fn.needs_input_grad = tuple(t.requires_grad for t in tensors) if record else (False,) * len(tensors)
        raw = fn.forward(*[t.data for t in tensors], **attrs)
        multiple = isinstance(raw, tuple)
        outs = raw if multiple else (raw,)
        if not all(type(o) is _NDARRAY for o in outs):
            # NumPy turns 0-d results into scalars; tensors always hold arrays
            outs = tuple(o if hasattr(o, "__cuda_array_interface__") else numpy.asarray(o) for o in outs)
        if not record:
            results = tuple(Tensor._wrap(o) for o in outs)
            return results if multiple else results[0]
        fn._edges = tuple(_edge(t) for t in tensors)
        fn._out_meta = tuple((o.shape, o.dtype) for o in outs)
        fn._retained = None
        fn._freed = False
        results = tuple(
            Tensor._wrap(o, grad_fn=fn, index=i) if is_floating(o.dtype) else Tensor._wrap(o)
            for i, o in enumerate(outs)
        )
        return results if multiple else results[0]

    def _release(self) -> None:
        """Drop the saved arrays; keep the edges so a second backward can say why it fails."""
        keep = {k: self.__dict__[k] for k in self._GRAPH_ATTRS if k in self.__dict__}
        self.__dict__.clear()
        self.__dict__.update(keep)
        self._freed = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backward>"


def _edge(t):
    """Where the gradient of input tensor ``t`` goes: None, a leaf, or its producer."""
    if not t.requires_grad:
        return None
    if t.grad_fn is None:
        return (_LEAF, t, 0, t.shape, t.dtype)
    return (_NODE, t.grad_fn, t._out_index, t.shape, t.dtype)


def _as_tensors(cls, inputs, promote):
    """Turn op inputs into tensors on one device with compatible dtypes.

    Python scalars and raw arrays take the dtype of the tensor inputs (a weak
    type, as in NumPy 2 and Keras): ``x * 2`` and ``x * numpy_float64_array``
    stay float32 for a float32 ``x``. Two tensors of different float dtypes
    are refused.
    """
    from .tensor import Tensor, tensor

    ref = next((x for x in inputs if isinstance(x, Tensor)), None)
    if ref is None:
        ref_float = None
        device = None
    else:
        device = ref.device
        ref_float = next((x.dtype for x in inputs if isinstance(x, Tensor) and is_floating(x.dtype)), None)
        for x in inputs:
            if isinstance(x, Tensor) and x.device != device:
                raise RuntimeError(
                    f"{cls.op_name()}: expected all tensors on one device, got {device} and {x.device}; "
                    "move one with .to(device)"
                )
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (bool, numbers.Number)) and not isinstance(x, numpy.ndarray):
            dtype = _scalar_dtype(x, ref_float, ref)
            out.append(tensor(x, dtype=dtype, device=device))
        else:
            # raw arrays are constants: a float array takes the float dtype of the tensors
            arr = tensor(x, device=device)
            if ref_float is not None and is_floating(arr.dtype) and arr.dtype != ref_float:
                arr = tensor(x, dtype=ref_float, device=device)
            out.append(arr)
    floats = {t.dtype for t in out if is_floating(t.dtype)}
    if len(floats) > 1:
        names = " and ".join(sorted(str(d) for d in floats))
        raise TypeError(f"{cls.op_name()}: expected tensors of one float dtype, got {names}; cast one with .astype()")
    if promote and floats:
        (fdt,) = floats
        out = [t if is_floating(t.dtype) else t.astype(fdt) for t in out]
    return out


def _scalar_dtype(x, ref_float, ref):
    if isinstance(x, bool):
        return numpy.bool_
    if isinstance(x, numbers.Integral):
        return ref.dtype if ref is not None and ref.dtype.kind in "iuf" else None
    return ref_float  # None lets tensor() pick floatx
