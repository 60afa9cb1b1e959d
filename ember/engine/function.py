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

import contextlib
import contextvars
import numbers
import threading

import numpy

from ..backend.config import floatx
from ..backend.device import default_device
from .grad_mode import is_grad_enabled

# How many in-place writes into tensors have happened (engine/inplace.py counts them); a list so both modules share it
_write_epoch = [0]

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
    # under an AutocastScope (engine/autocast.py) float Variables among the inputs come in the scope's dtype;
    # the cast op itself states its dtype and is exempt
    autocasts: bool = True
    # create_graph: which saved attributes are the arrays of inputs (an index) or outputs (("out", k)); the
    # engine swaps them for tensors linked to the graph and runs backward on tensors (see engine/autograd.py).
    # Attributes not named are constants of the backward (masks, shapes). None: no differentiable backward.
    graph_saved: dict | None = None
    # the count of in-place writes (engine/inplace.py) when forward ran; backward looks for later writes
    # into the arrays it saved only when the count has moved since (None: never checked)
    _epoch = None

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
        if _autocasting and cls.autocasts:  # a mixed-precision layer's call is running (engine/autocast.py)
            inputs = _autocast_reads(inputs)
        tensors, device = _as_tensors(cls, inputs)
        fn = cls.__new__(cls)
        fn.device = device
        fn.xp = device.xp if device is not None else numpy
        record = False
        if is_grad_enabled():
            needs = tuple(t.requires_grad for t in tensors)
            record = True in needs
        fn.needs_input_grad = needs if record else (False,) * len(tensors)
        raw = fn.forward(*[t.data for t in tensors], **attrs)
        multiple = type(raw) is tuple
        outs = raw if multiple else (raw,)
        for o in outs:
            if type(o) is not _NDARRAY and not hasattr(o, "__cuda_array_interface__"):
                # NumPy turns 0-d results into scalars; tensors always hold arrays
                outs = tuple(numpy.asarray(o) if isinstance(o, (numpy.generic, float, int)) else o for o in outs)
                break
        wrap = Tensor._wrap
        if not record:
            result = tuple(wrap(o) for o in outs) if multiple else wrap(outs[0])
        else:
            fn._edges = tuple(_edge(t) for t in tensors)
            fn._out_meta = tuple((o.shape, o.dtype) for o in outs)
            fn._retained = None
            fn._freed = False
            if not multiple:
                o = outs[0]
                result = wrap(o, fn, 0) if o.dtype.kind == "f" else wrap(o)
            else:
                result = tuple(wrap(o, fn, i) if o.dtype.kind == "f" else wrap(o) for i, o in enumerate(outs))
            fn._epoch = _write_epoch[0]
        if _tracing:  # a recorder is active in some thread: this thread's, if any, gets the application
            recorder = _recorder.get()
            if recorder is not None:
                recorder.on_apply(fn, tensors, attrs, result)
        return result

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


def _as_tensors(cls, inputs):
    """Turn op inputs into tensors on one device with compatible dtypes; return them and the device.

    Python scalars and raw arrays take the dtype of the tensor inputs (a weak
    type, as in NumPy 2 and Keras): ``x * 2`` and ``x * numpy_float64_array``
    stay float32 for a float32 ``x``. Two tensors of different float dtypes
    meet at the wider one (float16 * float32 -> float32, float32 + float64 ->
    float64), as Keras 3 and PyTorch promote. With ``cls.promote``, integer and
    bool inputs are cast to the float dtype.
    """
    ref = ref_float = device = None
    all_tensors, mixed = True, False
    for x in inputs:
        if isinstance(x, Tensor):
            if ref is None:
                ref, device = x, x.device
            elif type(x.data) is not _NDARRAY or type(ref.data) is not _NDARRAY:
                if x.device != device:
                    raise RuntimeError(
                        f"{cls.op_name()}: expected all tensors on one device, got {device} and {x.device}; "
                        "move one with .to(device)"
                    )
            if x.data.dtype.kind == "f":
                if ref_float is None:
                    ref_float = x.data.dtype
                elif x.data.dtype != ref_float:  # Keras's rule: tensors of two float dtypes meet at the wider
                    ref_float = numpy.promote_types(ref_float, x.data.dtype)
                    mixed = True
        else:
            all_tensors = False
    if all_tensors and not mixed and not (cls.promote and ref_float is not None):
        return inputs, device
    if device is None:
        device = default_device()
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            t = x
        elif isinstance(x, (bool, numbers.Number)):
            t = Tensor._wrap(device.xp.asarray(x, dtype=_scalar_dtype(x, ref_float, ref)))
        else:
            # raw arrays are constants: a float array takes the float dtype of the tensors
            if isinstance(x, (list, tuple)):
                x = numpy.asarray(x)
            floating = getattr(x, "dtype", None) is not None and numpy.dtype(x.dtype).kind == "f"
            t = tensor(x, dtype=ref_float if floating and ref_float is not None else None, device=device)
        if cls.promote and ref_float is not None and t.dtype.kind != "f":
            t = t.astype(ref_float)
        elif mixed and t.dtype.kind == "f" and t.dtype != ref_float:
            t = t.astype(ref_float)  # a differentiable cast: the narrower tensor's gradient comes back narrow
        out.append(t)
    if ref_float is None:
        floats = {t.dtype for t in out if t.dtype.kind == "f"}
        if len(floats) > 1:
            names = " and ".join(sorted(str(d) for d in floats))
            raise TypeError(f"{cls.op_name()}: expected one float dtype, got {names}; cast one with .astype()")
    return out, device


def _scalar_dtype(x, ref_float, ref):
    """The dtype a Python scalar takes beside the op's tensor inputs."""
    if isinstance(x, bool):
        return numpy.bool_
    if isinstance(x, numbers.Integral):
        return ref.dtype if ref is not None and ref.dtype.kind in "iuf" else numpy.int64
    return ref_float if ref_float is not None else floatx()


# Keras's AutocastScope (engine/autocast.py): the number of scopes open in all threads, so an apply outside them
# costs one integer test, and the function that casts the float Variables among an op's inputs
_autocasting = 0
_autocast_reads = None

# The recorder of the current thread (context), set by ``recording``: ember.compile's tracer. Function.apply
# calls ``recorder.on_apply(fn, input_tensors, attrs, result)``; random draws (engine/random.py), Variable
# writes and state updates (engine/variable.py) report to it too. ``_tracing`` counts the recorders active in
# all threads, so an apply with nobody tracing costs one integer test.
_recorder = contextvars.ContextVar("ember_recorder", default=None)
_tracing = 0
_tracing_lock = threading.Lock()


def current_recorder():
    """The recorder tracing in this thread (context), or None."""
    return _recorder.get() if _tracing else None


@contextlib.contextmanager
def recording(recorder):
    """Within the block, this thread's Function applications, draws and writes are reported to ``recorder``.

    Other threads (a ``Dataset.prefetch`` worker, concurrent ``predict`` calls) are not recorded: the
    recorder is a ``contextvars`` value of the calling thread. Refused when this thread already records.
    """
    global _tracing
    if _recorder.get() is not None:
        raise RuntimeError("ember: this thread is already recording a trace")
    token = _recorder.set(recorder)
    with _tracing_lock:
        _tracing += 1
    try:
        yield recorder
    finally:
        with _tracing_lock:
            _tracing -= 1
        _recorder.reset(token)


def note_alias(tensor, source, written=False) -> None:
    """Tell this thread's recorder (if any) that reading ``tensor`` reads ``source``'s value from here on.

    An in-place write (engine/inplace.py) reports twice: the stand-in tensor its op reads as the written
    tensor's value before the write, then (``written``) the written tensor as the op's result after it.
    """
    recorder = current_recorder()
    if recorder is not None:
        on_alias = getattr(recorder, "on_alias", None)
        if on_alias is not None:
            on_alias(tensor, source, written)


# bound at the end of the import of engine/tensor.py (which imports this module)
Tensor = tensor = None
