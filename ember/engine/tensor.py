"""``Tensor``: an array on a device, plus what autodiff needs.

A tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``, the
accumulated ``grad`` (a Tensor, after ``backward()``), and ``grad_fn``, the
:class:`~ember.engine.function.Function` that produced it (``None`` for leaves).
Operators and methods delegate to the differentiable ops in :mod:`ember.ops`.
"""

from __future__ import annotations

import sys
import weakref

import numpy

from ..backend.device import Device, default_device, device_of_array, to_host
from .dtypes import default_dtype_for, is_floating, resolve_dtype


class Tensor:
    """A multi-dimensional array that can record the ops applied to it.

    Build tensors with :func:`ember.tensor` (or ``Tensor(data, ...)``, which
    does the same). ``shape``, ``dtype``, ``ndim``, ``size`` and ``device``
    describe the data; ``numpy()`` and ``item()`` read it back to the host.
    """

    # _keras_mask: the mask a Keras layer attached to its output (left unset otherwise)
    # _vc: the version cell, [n] after n in-place writes (None until the first write or until an op saves the data)
    __slots__ = (
        "data",
        "requires_grad",
        "grad",
        "grad_fn",
        "_out_index",
        "name",
        "_keras_mask",
        "_vc",
        "__weakref__",
    )
    # NumPy defers its binary operators to ours (ndarray + Tensor -> Tensor).
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False):
        array = _to_array(data, dtype, device)
        self._init(array, requires_grad)

    def _init(self, array, requires_grad=False, grad_fn=None, index=0):
        if requires_grad and not is_floating(array.dtype):
            raise TypeError(f"tensor: only float tensors can require grad, got dtype {array.dtype}")
        self.data = array
        self.requires_grad = bool(requires_grad) or grad_fn is not None
        self.grad = None
        self.grad_fn = grad_fn
        self._out_index = index
        self.name = None
        self._vc = None

    @classmethod
    def _wrap(cls, array, grad_fn=None, index=0):
        """Wrap an array without copying or converting it (ops use this)."""
        t = cls.__new__(cls)
        t._init(array, False, grad_fn, index)
        return t

    # ---- description -------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> numpy.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def device(self) -> Device:
        return device_of_array(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's data has had (PyTorch's ``_version``)."""
        return 0 if self._vc is None else self._vc[0]

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = numpy.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = [f"dtype={self.dtype}"]
        if self.device.type != "cpu":
            extra.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={type(self.grad_fn).__name__}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # ---- host access ---------------------------------------------------------
    def numpy(self) -> numpy.ndarray:
        """The data as a NumPy array (a view on cpu, a copy from another device)."""
        if isinstance(self.data, numpy.ndarray):
            return self.data
        return to_host(self.data)

    def item(self):
        """The single element as a Python number."""
        if self.size != 1:
            raise ValueError(f"item: expected a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        # NumPy 2's protocol: copy=True must give an array the caller may write without touching the tensor
        # (np.array(t) asks for one); copy=None shares when it can (np.asarray(t)); copy=False must share.
        if type(self.data) is not numpy.ndarray and getattr(type(self.data), "_ember_device", None) is not None:
            from ..backend.strict import check_tensor_to_numpy

            check_tensor_to_numpy(sys._getframe(1))
        a = self.numpy()
        if copy is False and (a is not self.data or (dtype is not None and numpy.dtype(dtype) != a.dtype)):
            raise ValueError(
                f"cannot view this {self.device} tensor as a NumPy array of {dtype or a.dtype} without a copy"
            )
        if dtype is not None:
            return a.astype(dtype, copy=bool(copy))
        return a.copy() if copy and a is self.data else a

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor with shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.item())

    def __index__(self) -> int:
        if self.size != 1 or self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors with one element can be used as an index, got {self.dtype}")
        return int(self.item())

    # ---- autograd ------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf behind it.

        Args:
            gradient: d(loss)/d(self); defaults to 1 for a one-element tensor.
            retain_graph: keep the graph so backward can run through it again (defaults to ``create_graph``).
            create_graph: record the backward pass, so each ``.grad`` is a tensor with a graph that can be
                differentiated again (second derivatives, gradient penalties).
        """
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is not None:
            if self.grad_fn._retained is None:
                self.grad_fn._retained = {}
            self.grad_fn._retained[self._out_index] = weakref.ref(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad on a non-leaf; use .detach()")
        if requires_grad and not is_floating(self.dtype):
            raise TypeError(f"requires_grad_: only float tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data (shared, not copied) cut from the graph; in-place writes to either bump one version."""
        t = Tensor._wrap(self.data)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def copy(self) -> Tensor:
        """A copy of the data, differentiable (PyTorch's ``clone``)."""
        return _ops.cast(self, self.dtype)

    clone = copy

    def zero_grad(self) -> None:
        self.grad = None

    # ---- device and dtype ----------------------------------------------------
    def to(self, device=None, dtype=None) -> Tensor:
        """This tensor on ``device`` and/or as ``dtype`` (differentiable; self if nothing changes)."""
        out = self
        if device is not None and Device(device) != self.device:
            out = _ops.to_device(out, device)
        if dtype is not None and resolve_dtype(dtype) != out.dtype:
            out = out.astype(dtype)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    def astype(self, dtype, copy: bool = True) -> Tensor:
        """This tensor cast to ``dtype`` (a copy; ``self`` when ``copy=False`` and the dtype is already right)."""
        if not copy and resolve_dtype(dtype) == self.dtype:
            return self
        return _ops.cast(self, dtype)

    def float(self) -> Tensor:
        return self.astype("float32")

    def double(self) -> Tensor:
        return self.astype("float64")

    # ---- operators -----------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.mod(self, other)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)

    def __eq__(self, other):
        return _ops.equal(self, other)

    def __ne__(self, other):
        return _ops.not_equal(self, other)

    __hash__ = object.__hash__

    # & | ~ as NumPy's: logical on bool tensors (masks), bitwise on integers
    def __and__(self, other):
        return _ops.logical_and(self, other) if self.dtype == numpy.bool_ else _ops.bitwise_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other) if self.dtype == numpy.bool_ else _ops.bitwise_or(self, other)

    def __invert__(self):
        return _ops.logical_not(self) if self.dtype == numpy.bool_ else _ops.bitwise_invert(self)

    # in-place arithmetic writes into the data, with PyTorch's rule (engine/inplace.py): recorded on a
    # non-leaf, refused on a leaf that requires grad while grad mode is on, plain under no_grad
    def __iadd__(self, other):
        return _inplace.arithmetic(self, other, "add")

    def __isub__(self, other):
        return _inplace.arithmetic(self, other, "subtract")

    def __imul__(self, other):
        return _inplace.arithmetic(self, other, "multiply")

    def __itruediv__(self, other):
        return _inplace.arithmetic(self, other, "true_divide")

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        """``x[index] = value`` in place, with the rule of in-place arithmetic (engine/inplace.py)."""
        _inplace.setitem(self, _raw_index(index), value)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ---- NumPy-style methods ------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _ops.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _ops.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def prod(self, axis=None, keepdims=False):
        return _ops.prod(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _ops.argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _ops.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _ops.all(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        return _ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        return _ops.reshape(self, _shape_args(shape))

    def transpose(self, *axes):
        return _ops.transpose(self, _shape_args(axes) if axes else None)

    def permute(self, *axes):
        return _ops.transpose(self, _shape_args(axes))

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return _ops.transpose(self)

    def swapaxes(self, axis1, axis2):
        return _ops.swapaxes(self, axis1, axis2)

    def flatten(self):
        return _ops.reshape(self, (-1,))

    def ravel(self):
        return _ops.reshape(self, (-1,))

    def squeeze(self, axis=None):
        return _ops.squeeze(self, axis=axis)

    def expand_dims(self, axis):
        return _ops.expand_dims(self, axis)

    def unsqueeze(self, axis):
        return _ops.expand_dims(self, axis)

    def repeat(self, repeats, axis=None):
        return _ops.repeat(self, repeats, axis=axis)

    def take(self, indices, axis=None):
        return _ops.take(self, indices, axis=axis)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's argument names
        return _ops.clip(self, min, max)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def square(self):
        return _ops.square(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis=axis)


def _shape_args(args):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _to_array(data, dtype=None, device=None):
    """Copy ``data`` into a new array on ``device`` with Ember's dtype rules."""
    dtype = resolve_dtype(dtype)
    if isinstance(data, Tensor):
        src, target = data.data, Device(device) if device is not None else data.device
    else:
        src = numpy.asarray(_unwrap_nested(data)) if isinstance(data, (list, tuple)) else data
        on_gpu = device_of_array(src).type == "cuda"
        target = Device(device) if device is not None else (device_of_array(src) if on_gpu else default_device())
    if device_of_array(src).type != "cpu" and device_of_array(src) != target:
        src = to_host(src)  # across devices through the host, explicitly
    array = target.xp.array(src, copy=True)
    return array.astype(dtype if dtype is not None else default_dtype_for(array), copy=False)


def _unwrap_nested(seq):
    """Lists may hold tensors (``[t1, t2]``): read their values."""
    out = []
    for x in seq:
        if isinstance(x, Tensor):
            out.append(x.numpy())
        elif isinstance(x, (list, tuple)):
            out.append(_unwrap_nested(x))
        else:
            out.append(x)
    return out


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Make a new leaf tensor from a Python value, an array or another tensor (copied).

    Python floats and float64 arrays become float32 (``ember.backend.floatx()``)
    unless ``dtype`` says otherwise; integer and bool data keep their dtype.

    Example:
        >>> x = ember.tensor([[1.0, 2.0]], requires_grad=True)   # shape (1, 2), float32
    """
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


# function.py and the ops need Tensor, so they are bound after it exists
from . import function as _function  # noqa: E402

_function.Tensor, _function.tensor = Tensor, tensor
from . import autograd as _autograd  # noqa: E402

_autograd.Tensor = Tensor

from .. import ops as _ops  # noqa: E402
from . import inplace as _inplace  # noqa: E402

_inplace.Tensor, _inplace._ops = Tensor, _ops

__all__ = ["Tensor", "tensor"]
