"""The helpers Keras programs call through ``keras.backend`` / ``keras.config``, beyond floatx and epsilon.

* ``image_data_format()`` / ``set_image_data_format()``: the default layout of
  image tensors for layers that take a ``data_format`` argument.
  ``"channels_last"`` (``(batch, rows, cols, channels)``) is the default and
  the layout of Ember's convolution and pooling ops.
* ``backend()``: the name of the running backend, ``"ember"``.
* ``get_uid(prefix)``: a per-prefix counter (1, 2, 3, ...), what Keras uses to
  name layers ``dense``, ``dense_1``, ...
* ``clear_session()``: resets that counter, then runs the hooks other modules
  registered with ``register_clear_session_hook`` (so each can forget its own
  global state), then optionally collects garbage.
"""

from __future__ import annotations

import collections
import gc

_DATA_FORMATS = ("channels_first", "channels_last")
_IMAGE_DATA_FORMAT = "channels_last"
_UIDS: collections.defaultdict = collections.defaultdict(int)
_CLEAR_SESSION_HOOKS: list = []


def image_data_format() -> str:
    """The default image layout: ``"channels_last"`` unless changed with :func:`set_image_data_format`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout returned by :func:`image_data_format`.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (any case).
    """
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(f"set_image_data_format: expected one of {_DATA_FORMATS}, got data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = value


def backend() -> str:
    """The name of the backend Keras-style code runs on: ``"ember"``."""
    return "ember"


def get_uid(prefix: str = "") -> int:
    """The next number for ``prefix``: 1 on the first call, then 2, 3, ... until :func:`clear_session`.

    Args:
        prefix: the name being counted (a layer's default name, say).

    Returns:
        A positive int.
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids() -> None:
    """Forget every :func:`get_uid` counter."""
    _UIDS.clear()


def register_clear_session_hook(hook):
    """Run ``hook()`` at every :func:`clear_session` (after the name counters are reset).

    Args:
        hook: a callable taking no arguments; registering the same one twice keeps one copy.

    Returns:
        ``hook``, so this can be used as a decorator.
    """
    if not callable(hook):
        raise TypeError(f"register_clear_session_hook: expected a callable, got {hook!r}")
    if hook not in _CLEAR_SESSION_HOOKS:
        _CLEAR_SESSION_HOOKS.append(hook)
    return hook


def clear_session(free_memory: bool = True) -> None:
    """Reset the global state of the Keras API: layer-name counters and whatever registered hooks reset.

    Args:
        free_memory: also run Python's garbage collector.
    """
    reset_uids()
    for hook in list(_CLEAR_SESSION_HOOKS):
        hook()
    if free_memory:
        gc.collect()


# ---- dtype helpers (``keras.backend``) -------------------------------------------------------

_PYTHON_DTYPES = {bool: "bool", int: "int32", float: "float32", str: "string"}
_ALLOWED = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "string",
)  # fmt: skip


def standardize_dtype(dtype) -> str:
    """``dtype`` (a string, a NumPy dtype, a Python type, a tensor's dtype) as Keras's canonical name.

    None gives :func:`~ember.backend.floatx`.
    """
    import numpy

    from .config import floatx

    if dtype is None:
        return floatx()
    if dtype in _PYTHON_DTYPES:
        name = _PYTHON_DTYPES[dtype]
        return floatx() if name == "float32" else name
    if isinstance(dtype, str):
        name = dtype
    else:
        try:
            name = numpy.dtype(dtype).name
        except TypeError:
            name = str(getattr(dtype, "name", None) or dtype)
            if name.startswith("torch."):
                name = name[len("torch.") :]
    if name not in _ALLOWED:
        raise ValueError(f"standardize_dtype: {dtype!r} is not a dtype Keras knows (one of {_ALLOWED})")
    return name


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating dtype (float16/bfloat16/float32/float64)."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer dtype."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of a functional model."""
    from ..layers.symbolic import SymbolicTensor

    return isinstance(x, SymbolicTensor)


def result_type(*dtypes) -> str:
    """The dtype ``keras.backend.result_type`` gives for ``dtypes``: JAX-style promotion, 64-bit types narrowed.

    Floats are not widened by integers (int32 with float16 gives float16); among floats the widest wins
    (bfloat16 with float16 gives float32); among integers NumPy's promotion applies (an unsigned 64-bit
    integer with a signed one gives a float). Python ``int``/``float`` are weak: they adopt the other
    operands' type, float giving ``floatx`` when no float dtype is present. As Keras (JAX without x64)
    returns it, int64/uint64/float64 results come back as int32/uint32/float32.
    """
    import numpy

    from .config import floatx

    narrow = {"int64": "int32", "uint64": "uint32", "float64": "float32"}
    weak_float = any(d is float for d in dtypes)
    weak_int = any(d is int for d in dtypes)
    strong = [standardize_dtype(d) for d in dtypes if d not in (int, float)]
    floats = [d for d in strong if is_float_dtype(d)]
    if floats:
        kinds = set(floats)
        if kinds == {"bfloat16"}:
            return "bfloat16"
        if "bfloat16" in kinds and "float16" in kinds and kinds <= {"bfloat16", "float16"}:
            return "float32"
        widths = {"float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}
        return narrow.get(max(floats, key=lambda d: widths[d]), max(floats, key=lambda d: widths[d]))
    if weak_float:
        return narrow.get(floatx(), floatx())
    if not strong:
        return "int32" if weak_int else narrow.get(floatx(), floatx())
    if weak_int and set(strong) == {"bool"}:
        return "int32"
    name = numpy.result_type(*[numpy.dtype(d) for d in strong]).name
    return narrow.get(name, name)
