"""The ``strict`` device: NumPy behind a CuPy-like wall, so tests find what a GPU backend would trip on.

A test-only device (``EMBER_DEVICE=strict`` or ``Device("strict")``). Its
arrays are :class:`StrictArray`, a thin wrapper around a NumPy array that is
*not* a ``numpy.ndarray``, and its array module :data:`xp` mirrors the NumPy
functions by name and returns wrapped arrays, as CuPy mirrors NumPy.

Like CuPy, a strict array refuses every implicit trip to the host:

- ``numpy.asarray(a)`` / ``numpy.array(a)`` (``__array__``) raise ``TypeError``; so do
  NumPy ufuncs on it (``__array_ufunc__ = None``), which CuPy would dispatch to itself: ops
  name ``xp``, and a ``numpy.`` on a device array is a slip worth finding anyway;
- mixing it with a ``numpy.ndarray`` (other than 0-d) in an operator (``a + host``), an ``xp``
  function (``xp.add(a, host)``) or an assignment other than ``a[:] = host``
  raises ``TypeError`` (NumPy *scalars* and Python numbers are fine, as in CuPy);
- ``operator.index(a)`` raises (CuPy leaves ``__index__`` out on purpose).

It is stricter than CuPy where the issue asks for it: ``float(a)``, ``int(a)``,
``complex(a)`` and ``a.tolist()`` raise too (CuPy would quietly synchronise the
GPU for each), unless inside :func:`explicit_transfer`. ``bool(a)`` of a
one-element array is allowed, as in CuPy: a data-dependent branch
(``if mask.any():``) needs it. The
explicit ways out are ``a.get()``, ``xp.asnumpy(a)`` and ``a.item()`` (one
element, asked for by name), and, above this module,
:func:`ember.backend.to_host` and ``tensor.to("cpu")`` / ``tensor.numpy()``.
Ways in: ``xp.asarray(host)``, ``xp.array(host)`` and the other creation
functions, as with CuPy.

What passing the suite on this device proves: no code path hands a device array
to NumPy, builds device data with NumPy where ``xp`` was meant, mixes host and
device arrays, or converts an array to a Python number behind the caller's back.
What it cannot prove: that CuPy implements every NumPy name and argument used
(the namespace forwards any NumPy name), or anything about speed.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
import types
import weakref

import numpy

_local = threading.local()
# the live wrapper of each wrapped NumPy array (the latest, if several), so ``a.base`` is a stable object
_latest = weakref.WeakValueDictionary()


@contextlib.contextmanager
def explicit_transfer():
    """Within this block strict arrays may be converted to host values (``float``, ``tolist``, ``bool``)."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def _transfer_allowed() -> bool:
    return getattr(_local, "depth", 0) > 0


def _refuse(what: str):
    raise TypeError(
        f"strict device: {what} would copy a device array to the host implicitly; "
        "transfer explicitly (ember.backend.to_host(a), a.get(), xp.asnumpy(a), tensor.numpy() or .to('cpu'))"
    )


def check_tensor_to_numpy(frame) -> None:
    """Refuse ``numpy.asarray(tensor)`` of a strict tensor when Ember's own code asks (``frame``: the caller's).

    A user (or a test) may read a tensor with NumPy: that is an explicit request. Inside the library the same
    call is a transfer nobody sees, and on a GPU a device-to-host copy per call; the library reads tensors with
    ``tensor.numpy()`` or ``backend.to_host`` where it means to.
    """
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    if (module == "ember" or module.startswith("ember.")) and not _transfer_allowed():
        raise TypeError(
            f"strict device: numpy.asarray() of a device tensor in {module} (line {frame.f_lineno}) would copy it "
            "to the host implicitly; use tensor.numpy() or ember.backend.to_host() where a host copy is meant"
        )


def _host_array_error(where: str):
    return TypeError(
        f"strict device: {where} got a numpy.ndarray beside a device array; "
        "move it to the device first (xp.asarray(host)) or the device array to the host (to_host(a))"
    )


class StrictArray:
    """A NumPy array on the ``strict`` device; refuses implicit host conversion like ``cupy.ndarray``.

    Attributes:
        shape, dtype, ndim, size, itemsize, nbytes, strides, T, flags: as NumPy's.
    """

    __slots__ = ("_a", "__weakref__")
    __array_ufunc__ = None  # NumPy ufuncs and ndarray operators step aside (and then refuse), as for CuPy
    __array_priority__ = 100  # below Tensor's 1000: Tensor's reflected operators win
    _ember_device = "strict"

    def __init__(self, array):
        if not isinstance(array, numpy.ndarray):
            raise TypeError(f"StrictArray: expected a numpy.ndarray to wrap, got {type(array).__name__}")
        self._a = array
        _latest[id(array)] = self

    # ---- description ----------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)

    @property
    def base(self):
        """The array this one is a view of: the same object each time, as CuPy's ``base`` (or None)."""
        base = self._a.base
        if not isinstance(base, numpy.ndarray):
            return None
        known = _latest.get(id(base))
        return known if known is not None and known._a is base else StrictArray(base)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return StrictArray(self._a.T)

    @property
    def real(self):
        return StrictArray(self._a.real)

    @property
    def imag(self):
        return StrictArray(self._a.imag)

    @property
    def device(self):
        from .device import Device

        return Device("strict")

    def __len__(self) -> int:
        return len(self._a)

    def __repr__(self) -> str:
        return "strict_" + repr(self._a)

    def __str__(self) -> str:
        return str(self._a)

    # ---- the refusals ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        _refuse("numpy.asarray() of a strict array")

    def __float__(self):
        return float(self._host("float()"))

    def __int__(self):
        return int(self._host("int()"))

    def __complex__(self):
        return complex(self._host("complex()"))

    def __bool__(self):
        # allowed as in CuPy (a one-element truth test syncs but works): data-dependent branches need it
        return self._a.__bool__()

    def __index__(self):
        raise TypeError(
            "strict device: a device array cannot be used as a Python index (CuPy leaves __index__ out: it would "
            "copy to the host); use int(a.item())"
        )

    def _host(self, what):
        if not _transfer_allowed():
            _refuse(what)
        return self._a  # NumPy's own conversion (and its error for more than one element)

    def tolist(self):
        if not _transfer_allowed():
            _refuse(".tolist()")
        return self._a.tolist()

    # ---- the explicit transfers -----------------------------------------------------
    def get(self) -> numpy.ndarray:
        """A host copy (CuPy's name)."""
        return self._a.copy()

    def set(self, host) -> None:
        """Copy ``host`` (a NumPy array of this shape) into this array (CuPy's name)."""
        host = numpy.asarray(host)
        if host.shape != self._a.shape:
            raise ValueError(f"StrictArray.set: expected shape {self._a.shape}, got {host.shape}")
        self._a[...] = host

    def item(self, *args):
        """One element as a Python number: an explicit read, as in CuPy."""
        return self._a.item(*args)

    # ---- indexing -------------------------------------------------------------------
    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, numpy.ndarray) and value.ndim > 0:
            # CuPy accepts a host array only for a whole-array copy (a[:] = host, a[...] = host)
            if not ((isinstance(key, slice) and key == slice(None)) or key is Ellipsis):
                raise _host_array_error("__setitem__ (other than a[:] = host)")
        else:
            operand = _operand(value, "__setitem__")
            if operand is NotImplemented:
                raise TypeError(f"strict device: cannot assign a {type(value).__name__} into a strict array")
            value = operand
        self._a[_index(key)] = value

    def __iter__(self):
        for i in range(len(self._a)):
            yield _wrap(self._a[i])

    def __copy__(self):
        return StrictArray(self._a.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._a.copy())

    def __reduce__(self):
        return (StrictArray, (self._a,))

    # ---- methods: NumPy's, on the wrapped data --------------------------------------
    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError(f"'StrictArray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            args, kwargs, originals = _unwrap_call(args, kwargs, f"StrictArray.{name}")
            return _wrap(method(*args, **kwargs), originals)

        return call


# ndarray methods CuPy also has (and that forward safely)
_METHODS = frozenset(
    "all any argmax argmin argpartition argsort astype clip compress conj conjugate copy cumprod cumsum diagonal dot "
    "fill flatten max mean min nonzero partition prod ptp put ravel repeat reshape round searchsorted sort squeeze "
    "std sum swapaxes take trace transpose var view choose".split()
)


def _binary(name):
    op = getattr(numpy.ndarray, name)

    def method(self, other):
        other = _operand(other, name)
        if other is NotImplemented:
            return NotImplemented
        return _wrap(op(self._a, other))

    method.__name__ = name
    return method


def _inplace(name):
    op = getattr(numpy.ndarray, name)

    def method(self, other):
        other = _operand(other, name)
        if other is NotImplemented:
            return NotImplemented
        op(self._a, other)
        return self

    method.__name__ = name
    return method


def _unary(name):
    op = getattr(numpy.ndarray, name)

    def method(self):
        return _wrap(op(self._a))

    method.__name__ = name
    return method


for _name in (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift divmod "
    "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul rand ror rxor rlshift rrshift rdivmod "
    "lt le gt ge eq ne"
).split():
    setattr(StrictArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split():
    setattr(StrictArray, f"__i{_name}__", _inplace(f"__i{_name}__"))
for _name in "neg pos abs invert".split():
    setattr(StrictArray, f"__{_name}__", _unary(f"__{_name}__"))
StrictArray.__hash__ = None


def _operand(x, where):
    """An operator's other operand as NumPy sees it; NotImplemented for types that should answer themselves."""
    if type(x) is StrictArray:
        return x._a
    if isinstance(x, (numbers.Number, numpy.generic)):
        return x
    if isinstance(x, numpy.ndarray):
        if x.ndim == 0:  # CuPy takes a 0-d host array as a scalar
            return x
        raise _host_array_error(where)
    return NotImplemented


def _index(key):
    """An index with strict arrays unwrapped (host index arrays and lists are copied in, as CuPy does)."""
    if type(key) is StrictArray:
        return key._a
    if type(key) is tuple:
        return tuple(k._a if type(k) is StrictArray else k for k in key)
    return key


def _wrap(result, originals=None):
    """NumPy results as strict values: arrays (and NumPy scalars, as CuPy's 0-d arrays) wrapped."""
    if isinstance(result, numpy.ndarray):
        if originals is not None:
            same = originals.get(id(result))
            if same is not None and same._a is result:
                return same
        return StrictArray(result)
    if isinstance(result, numpy.generic):
        return StrictArray(numpy.asarray(result))
    if type(result) is tuple or type(result) is list:
        return type(result)(_wrap(r, originals) for r in result)
    if isinstance(result, (numpy.random.Generator, numpy.random.RandomState)):
        return _Proxy(result, type(result).__name__)
    if hasattr(result, "_fields") and isinstance(result, tuple):  # named tuples (linalg results, unique_all)
        return type(result)(*(_wrap(r, originals) for r in result))
    return result


def _unwrap(x, where, originals):
    if type(x) is StrictArray:
        originals[id(x._a)] = x
        return x._a
    if isinstance(x, numpy.ndarray) and x.ndim > 0:
        raise _host_array_error(where)
    if type(x) is list or type(x) is tuple:
        return type(x)(_unwrap(v, where, originals) for v in x)
    return x


def _unwrap_call(args, kwargs, where):
    originals = {}
    args = tuple(_unwrap(a, where, originals) for a in args)
    kwargs = {k: _unwrap(v, where, originals) for k, v in kwargs.items()}
    return args, kwargs, originals


def _unwrap_lenient(x):
    """For creation functions: host data is welcome (a copy in), strict arrays unwrapped."""
    if type(x) is StrictArray:
        return x._a
    if type(x) is list or type(x) is tuple:
        return type(x)(_unwrap_lenient(v) for v in x)
    return x


class _Function:
    """A NumPy function (or ufunc) seen from the strict device: strict arrays in, strict arrays out."""

    __slots__ = ("_f", "_where", "_lenient")

    def __init__(self, f, where, lenient=False):
        self._f, self._where, self._lenient = f, where, lenient

    def __call__(self, *args, **kwargs):
        if self._lenient:
            args = tuple(_unwrap_lenient(a) for a in args)
            kwargs = {k: _unwrap_lenient(v) for k, v in kwargs.items()}
            return _wrap(self._f(*args, **kwargs))
        args, kwargs, originals = _unwrap_call(args, kwargs, self._where)
        return _wrap(self._f(*args, **kwargs), originals)

    def __getattr__(self, name):  # ufunc methods: xp.add.at, xp.maximum.reduce, xp.add.reduceat, ...
        attr = getattr(self._f, name)
        return _Function(attr, f"{self._where}.{name}") if callable(attr) else attr

    def __repr__(self) -> str:
        return f"<strict {self._where}>"


class _Proxy:
    """A NumPy object (a random Generator) whose methods return strict arrays."""

    __slots__ = ("_obj", "_where")

    def __init__(self, obj, where):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name):
        attr = getattr(self._obj, name)
        if callable(attr) and not isinstance(attr, type):
            return _Function(attr, f"{self._where}.{name}")
        return attr

    def __setattr__(self, name, value):
        setattr(self._obj, name, value)


# creation functions take host data in (an explicit host-to-device copy, as cupy.asarray does)
_CREATION = frozenset(
    "array asarray asanyarray ascontiguousarray asfortranarray copy frombuffer fromiter fromfunction".split()
)


class _Namespace(types.ModuleType):
    """NumPy's names as the strict device's array module (a submodule per NumPy submodule)."""

    def __init__(self, name, source):
        super().__init__(name)
        self._source = source

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            attr = getattr(self._source, name)
        except AttributeError:
            raise AttributeError(f"strict xp: NumPy has no {self.__name__}.{name}") from None
        if isinstance(attr, types.ModuleType):
            value = _Namespace(f"{self.__name__}.{name}", attr)
        elif isinstance(attr, type) and issubclass(attr, numpy.random.Generator):
            value = _Function(attr, f"{self.__name__}.{name}")
        elif isinstance(attr, type) or not callable(attr):
            value = attr  # dtypes, constants, exception types, bit generators
        else:
            value = _Function(attr, f"{self.__name__}.{name}", lenient=name in _CREATION)
        setattr(self, name, value)
        return value


xp = _Namespace("ember.backend.strict.xp", numpy)
xp.ndarray = StrictArray


def asnumpy(a) -> numpy.ndarray:
    """A host copy of ``a`` (CuPy's ``cupy.asnumpy``); NumPy arrays are returned as they are."""
    if type(a) is StrictArray:
        return a._a.copy()
    return numpy.asarray(a)


xp.asnumpy = asnumpy
# dtype-level helpers take no arrays' values; NumPy's own are right
for _name in ("result_type", "promote_types", "can_cast", "dtype", "finfo", "iinfo", "issubdtype"):
    setattr(xp, _name, getattr(numpy, _name))


def _result_type(*args):
    return numpy.result_type(*(a.dtype if type(a) is StrictArray else a for a in args))


xp.result_type = _result_type


def is_strict_array(a) -> bool:
    return type(a) is StrictArray
