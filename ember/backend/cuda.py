"""The CuPy backend's own pieces: availability, compiled kernels, and pinned host->device staging.

Tensors on ``cuda`` hold ``cupy.ndarray`` data and ops compute with ``cupy`` through ``Device.xp``
(backend/device.py); this module holds what that seam does not:

- :func:`is_available` / :func:`on_cuda`: whether a GPU can be used, whether an array lives on one;
- :func:`raw_kernel` / :func:`elementwise_kernel`: CuPy kernels built once per source and cached. Every
  kernel source Ember ships is also listed in :data:`SOURCES` (by the ``*_cuda.py`` module that defines it)
  so a test can compile each one with NVRTC even on a machine without a GPU (:func:`compile_check`);
- :class:`PinnedStager`: host batches copied to the GPU through page-locked staging buffers that are reused
  from batch to batch (``cupy.cuda.alloc_pinned_memory``), so a copy can run asynchronously on a stream.

Nothing here imports CuPy at import time: ``import ember`` needs only NumPy.
"""

from __future__ import annotations

import functools

import numpy

# name -> ("raw", source, function name) | ("elementwise", in_params, out_params, operation, preamble)
SOURCES: dict = {}


@functools.lru_cache(maxsize=1)
def is_available() -> bool:
    """Whether CuPy imports and sees at least one GPU with a working driver (checked once)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDARuntimeError (no driver), ...
        return False


def on_cuda(array) -> bool:
    """Whether ``array`` is a CuPy array (device data), without importing CuPy."""
    return type(array).__module__.startswith("cupy")


def cupy_module():
    from .device import _cupy as load  # the one import of CuPy, with its install hint

    return load()


# ---- kernels --------------------------------------------------------------------------------------------


def register_raw(name: str, source: str, function: str) -> str:
    """Record a RawKernel source under ``name`` (for :func:`raw_kernel` and the compile checks); returns name."""
    SOURCES[name] = ("raw", source, function)
    return name


def register_elementwise(name: str, in_params: str, out_params: str, operation: str, preamble: str = "") -> str:
    """Record an ElementwiseKernel's parts under ``name``; returns name."""
    SOURCES[name] = ("elementwise", in_params, out_params, operation, preamble)
    return name


@functools.cache
def raw_kernel(name: str, ctype: str = "float"):
    """The ``cupy.RawKernel`` registered as ``name``, with ``T`` bound to ``ctype`` (compiled on first launch)."""
    kind, source, function = SOURCES[name]
    assert kind == "raw", name
    return cupy_module().RawKernel(f"typedef {ctype} T;\n{source}", function)


@functools.cache
def elementwise_kernel(name: str):
    """The ``cupy.ElementwiseKernel`` registered as ``name`` (its type placeholders are bound per call)."""
    kind, in_params, out_params, operation, preamble = SOURCES[name]
    assert kind == "elementwise", name
    return cupy_module().ElementwiseKernel(in_params, out_params, operation, f"ember_{name}", preamble=preamble)


def type_name(dtype) -> str | None:
    """The C type of a float dtype the kernels take (``float``/``double``), else None (the generic path runs)."""
    dtype = numpy.dtype(dtype)
    return {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}.get(dtype)


def launch_1d(kernel, size: int, args, block: int = 256) -> None:
    """Launch ``kernel`` with one thread per element of ``size`` (the kernels guard ``i < size`` themselves)."""
    if size > 0:
        kernel(((size + block - 1) // block,), (block,), args)


# ---- compile checks (no GPU needed: NVRTC only) ----------------------------------------------------------

_C_TYPES = {
    "float32": "float",
    "float64": "double",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "bool": "bool",
    "T": "T",
}


def elementwise_check_source(in_params: str, out_params: str, operation: str, preamble: str, t: str) -> str:
    """A CUDA translation unit that declares an ElementwiseKernel's parameters as locals and runs its body.

    CuPy builds the real kernel at the first call (which needs a GPU); this stands in for it so NVRTC can
    check the body's syntax and types: each input is a ``const`` local of its type, each output a reference
    to a local, ``i`` the element index, ``T`` bound to ``t``.
    """
    lines = [f"typedef {t} T;", preamble, 'extern "C" __global__ void ember_check() {', "  long long i = 0;"]
    for spec, const in ((in_params, True), (out_params, False)):
        for param in filter(None, (p.strip() for p in spec.split(","))):
            words = param.split()
            if words[0] == "raw":
                raise ValueError(f"elementwise_check_source: 'raw' parameters are not checked here: {param!r}")
            ctype, pname = _C_TYPES[words[0]], words[1]
            if const:
                lines.append(f"  const {ctype} {pname} = {ctype}();")
            else:
                lines.append(f"  {ctype} {pname}_store = {ctype}(); {ctype}& {pname} = {pname}_store;")
    lines += ["  {", operation, "  }", "}"]
    return "\n".join(lines)


def cupy_elementwise_source(in_params: str, out_params: str, operation: str, preamble: str, t: str, ndim: int = 2):
    """CuPy's own code for an ElementwiseKernel, as its first call would build it, and the NVRTC options it needs.

    Every ``T`` parameter is taken as an ``ndim``-d strided array, every other as a scalar. This reaches into
    CuPy's private code generator (``cupy._core._kernel``, checked with CuPy 14): it returns None where that
    differs, and the callers fall back on :func:`elementwise_check_source` alone.
    """
    try:
        import cupy
        import cupy._core._kernel as kernel
        import cupy._core.core as core
        from cupy._core._carray import Indexer

        dtype = numpy.dtype({"float": numpy.float32, "double": numpy.float64}[t])
        params = kernel._get_param_info(in_params, True) + kernel._get_param_info(out_params, False)
        infos = []
        for p in params:
            if p.ctype == "T":
                infos.append(kernel._ArgInfo(1, cupy.ndarray, dtype, ndim, False, True))  # an array
            else:
                infos.append(kernel._ArgInfo(3, p.dtype.type, p.dtype, 0, True, True))  # a scalar
        infos.append(kernel._ArgInfo(2, Indexer, None, ndim, True, True))  # the index, CuPy's last argument
        params += (kernel.ParameterInfo("CIndexer _ind", False),)
        types = kernel._TypeMap((("T", dtype),))
        code = kernel._get_elementwise_kernel_code(tuple(infos), types, params, operation, "ember_check", preamble)
        header = "".join(f"#include <{h}>\n" for h in core._cupy_header_list)
        options = ("-I" + core._get_header_dir_path(),) + tuple(core._get_cccl_include_options())
        return header + code, options + ("--device-as-default-execution-space",)
    except Exception:  # another CuPy version's internals: the stand-in check still runs
        return None


def check_sources(name: str, t: str = "float") -> list:
    """``(source, NVRTC options)`` for each CUDA translation unit that stands for kernel ``name`` with ``T = t``.

    A RawKernel: its source. An ElementwiseKernel: the stand-in of :func:`elementwise_check_source`, and CuPy's
    own generated code where :func:`cupy_elementwise_source` can build it.
    """
    spec = SOURCES[name]
    if spec[0] == "raw":
        return [(f"typedef {t} T;\n{spec[1]}", ())]
    units = [(elementwise_check_source(spec[1], spec[2], spec[3], spec[4], t), ())]
    real = cupy_elementwise_source(spec[1], spec[2], spec[3], spec[4], t)
    return units if real is None else units + [real]


class CompileError(RuntimeError):
    """NVRTC refused a kernel source; the message carries its log."""


def compile_check(source: str, arch: str = "compute_80", options: tuple = ()) -> None:
    """Compile ``source`` to PTX with NVRTC (no GPU or driver needed); raise :class:`CompileError` with the log.

    Needs CuPy and the NVRTC library (``nvidia-cuda-nvrtc-cu12``); raises ``ImportError``/``OSError``-like
    errors from CuPy when they are missing, which callers treat as "cannot check here".
    """
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram(source, "ember_kernel.cu", (), ())
    try:
        try:
            nvrtc.compileProgram(program, (f"-arch={arch}", "--std=c++17") + tuple(options))
        except nvrtc.NVRTCError as err:
            raise CompileError(f"{err}\n{nvrtc.getProgramLog(program)}\n--- source ---\n{source}") from None
    finally:
        nvrtc.destroyProgram(program)


# ---- host -> device staging ------------------------------------------------------------------------------


class _CupyTransfer:
    """The three CUDA calls :class:`PinnedStager` makes, behind a seam tests can replace."""

    def __init__(self, device_index: int):
        self.cupy = cupy_module()
        self.device_index = device_index
        with self.cupy.cuda.Device(device_index):
            self.stream = self.cupy.cuda.Stream(non_blocking=True)

    def alloc_pinned(self, nbytes: int):
        """Page-locked host memory of ``nbytes`` bytes (a buffer NumPy can view)."""
        return self.cupy.cuda.alloc_pinned_memory(nbytes)

    def copy_async(self, host_view: numpy.ndarray):
        """A new device array holding ``host_view`` (pinned), copied on the stream; returns (array, done-event)."""
        cupy = self.cupy
        with cupy.cuda.Device(self.device_index):
            out = cupy.empty(host_view.shape, dtype=host_view.dtype)
            out.set(host_view, stream=self.stream)
            event = cupy.cuda.Event(block=False, disable_timing=True)
            event.record(self.stream)
            # work queued later on the device's current stream waits for the copy (ops run there)
            cupy.cuda.get_current_stream().wait_event(event)
        return out, event


class PinnedStager:
    """Copies host arrays to one GPU through reused page-locked buffers.

    ``slots`` buffers are used in turn; before a buffer is refilled, the copy that last read it is waited
    for (its event), so at most ``slots`` copies are in flight and no batch is overwritten while its copy
    runs. A buffer grows (is replaced) only when a larger array comes; otherwise it is reused as is.

    Args:
        device: the target device (``"cuda"``/``"cuda:N"`` or a :class:`~ember.backend.Device`).
        slots: how many staging buffers rotate (2: the next batch is staged while the last one copies).
        transfer: the CUDA calls (tests pass a stand-in; default: CuPy's).
    """

    def __init__(self, device="cuda", slots: int = 2, transfer=None):
        from .device import Device

        self.device = Device(device)
        if self.device.type != "cuda":
            raise ValueError(f"PinnedStager: expected a cuda device, got {self.device}")
        if slots < 1:
            raise ValueError(f"PinnedStager: expected slots >= 1, got {slots}")
        self._transfer = transfer if transfer is not None else _CupyTransfer(self.device.index)
        self._buffers = [None] * slots  # (memory, nbytes)
        self._events = [None] * slots
        self._next = 0
        self.allocations = 0  # how many pinned buffers were allocated (tests and the docs read it)

    def to_device(self, array):
        """``array`` (host data) as a new device array; the copy is asynchronous, ordered before later ops."""
        host = numpy.asarray(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        slot = self._next
        self._next = (slot + 1) % len(self._buffers)
        event = self._events[slot]
        if event is not None:
            event.synchronize()  # the copy that last read this buffer has finished
        buffer = self._buffers[slot]
        if buffer is None or buffer[1] < host.nbytes:
            buffer = self._buffers[slot] = (self._transfer.alloc_pinned(max(host.nbytes, 1)), max(host.nbytes, 1))
            self.allocations += 1
        staged = numpy.frombuffer(buffer[0], dtype=host.dtype, count=host.size).reshape(host.shape)
        staged[...] = host
        out, self._events[slot] = self._transfer.copy_async(staged)
        return out

    def to_device_structure(self, data):
        """:meth:`to_device` over a nest of dicts, lists and tuples of arrays (None and strings pass through)."""
        if data is None or isinstance(data, str):
            return data
        if isinstance(data, dict):
            return {k: self.to_device_structure(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return type(data)(self.to_device_structure(v) for v in data)
        if isinstance(data, numpy.ndarray) and data.dtype.kind in "OSU":
            return data  # strings stay on the host (preprocessing layers read them there)
        if not isinstance(data, numpy.ndarray):
            return data
        return self.to_device(data)


# ---- fit/evaluate/predict on a device --------------------------------------------------------------------


def batch_stager():
    """For a fit/evaluate/predict loop: a function that puts a host batch on the default device through
    pinned staging buffers (:class:`PinnedStager`) when that device is cuda; None otherwise (the batch goes
    as it is, and tensors made from it land on the default device as usual)."""
    from .device import default_device

    target = default_device()
    if target.type != "cuda":
        return None
    return PinnedStager(target).to_device_structure


def device_argument(method):
    """Give ``fit``/``evaluate``/``predict`` Ember's ``device=`` argument (Keras has none; docs/gpu.md).

    ``model.fit(..., device="cuda")`` moves the model there (``model.to``, which stays in effect after the
    call, as in PyTorch) and runs the call inside ``with ember.device("cuda")``, so the batches, the
    metrics' and the optimizer's new state are made there; outputs come back to the host explicitly.
    Without ``device`` the call is unchanged (the default device: ``with ember.device``/``EMBER_DEVICE``).
    """

    @functools.wraps(method)
    def call(self, *args, device=None, **kwargs):
        if device is None:
            return method(self, *args, **kwargs)
        from .device import Device

        target = Device(device)
        self.to(target)
        with target:
            return method(self, *args, **kwargs)

    return call
