"""MXNet's contexts (``mx.cpu()``, ``mx.gpu(i)``) mapped to Ember's devices (``"cpu"``, ``"cuda:i"``)."""

from __future__ import annotations

import importlib.util


class Context:
    """Where an NDArray lives: ``device_type`` ``"cpu"`` or ``"gpu"`` and ``device_id``; ``.device`` is Ember's name."""

    def __init__(self, device_type: str = "cpu", device_id: int = 0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if device_type not in ("cpu", "gpu", "cpu_pinned"):
            raise ValueError(f"Context: device_type must be 'cpu' or 'gpu', got {device_type!r}")
        self.device_type = "cpu" if device_type == "cpu_pinned" else device_type
        self.device_id = int(device_id)

    @property
    def device(self) -> str:
        """Ember's device string for this context."""
        return "cpu" if self.device_type == "cpu" else f"cuda:{self.device_id}"

    def __eq__(self, other):
        return isinstance(other, Context) and (self.device_type, self.device_id) == (other.device_type, other.device_id)

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __repr__(self):
        return f"{self.device_type}({self.device_id})"

    def __enter__(self):
        global _current
        self._previous, _current = _current, self
        return self

    def __exit__(self, *exc):
        global _current
        _current = self._previous


_current = Context("cpu", 0)


def cpu(device_id: int = 0) -> Context:
    """The CPU context (Ember's ``"cpu"`` device)."""
    return Context("cpu", device_id)


def num_gpus() -> int:
    """How many CUDA devices CuPy sees; 0 without CuPy."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver or no device
        return 0


def gpu(device_id: int = 0) -> Context:
    """GPU ``device_id`` (Ember's ``"cuda:N"``); raises when CuPy or the device is missing."""
    n = num_gpus()
    if n == 0:
        raise RuntimeError(
            f"mx.gpu({device_id}): no GPU available to Ember (it runs on GPUs through CuPy: "
            "pip install 'ember[gpu]' on a machine with CUDA); use mx.cpu() instead"
        )
    if device_id >= n:
        raise RuntimeError(f"mx.gpu({device_id}): only {n} GPU(s) visible")
    return Context("gpu", device_id)


def current_context() -> Context:
    """The default context for new arrays (``with mx.cpu(): ...`` changes it)."""
    return _current


def as_context(ctx) -> Context:
    """``None`` -> the current context; a Context or a list of them (the first is used) -> a Context."""
    if ctx is None:
        return _current
    if isinstance(ctx, (list, tuple)):
        if not ctx:
            raise ValueError("ctx: an empty list of contexts")
        ctx = ctx[0]
    if isinstance(ctx, Context):
        return ctx
    if isinstance(ctx, str):
        return Context("cpu" if ctx == "cpu" else "gpu", int(ctx.split(":")[1]) if ":" in ctx else 0)
    raise TypeError(f"ctx: expected an mx.Context (mx.cpu(), mx.gpu(i)), got {type(ctx).__name__}")


def context_of(device) -> Context:
    """The Context for an Ember device object or string."""
    name = str(device)
    if name.startswith("cuda"):
        return Context("gpu", int(name.split(":")[1]) if ":" in name else 0)
    return Context("cpu", 0)
