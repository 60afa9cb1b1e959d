"""``ember.config``: Keras 3's ``keras.config`` (process-wide settings) on Ember.

``backend()`` returns ``"ember"``: programs that branch on
``keras.config.backend() == "tensorflow"`` (or "jax", "torch") take their
generic path. Float settings are Ember's own (``floatx``, ``epsilon``);
``bfloat16`` is refused because NumPy has no such dtype. The global dtype policy
(``dtype_policy`` / ``set_dtype_policy``, ``"mixed_float16"`` included) is
``ember.dtype_policies``'s.

Some settings describe Keras machinery Ember does not have; each is kept as a
flag with Keras's default so programs that read or set it run, and the
docstring says what Ember does with it:

- traceback filtering: Ember never filters tracebacks; the flag only records
  the choice.
- flash attention: Ember has no fused attention kernel; enabling it makes
  ``ops.dot_product_attention(..., flash_attention=None)`` refuse as Keras does
  on hardware without one.
- ``max_epochs`` / ``max_steps_per_epoch`` and ``enable_unsafe_deserialization``:
  recorded and readable (:func:`max_epochs`, :func:`max_steps_per_epoch`,
  :func:`is_unsafe_deserialization_enabled`); ``Model.fit`` and the loaders do
  not consult them yet.
"""

from __future__ import annotations

import numpy

from . import dtype_policies as _policies
from .backend import config as _num
from .backend.keras_api import image_data_format, set_image_data_format

__all__ = [
    "backend",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "is_unsafe_deserialization_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_max_epochs",
    "set_max_steps_per_epoch",
]

_STATE = {
    "interactive_logging": True,
    "traceback_filtering": True,
    "flash_attention": None,
    "unsafe_deserialization": False,
    "max_epochs": None,
    "max_steps_per_epoch": None,
}

epsilon = _num.epsilon
floatx = _num.floatx
set_epsilon = _num.set_epsilon


def backend() -> str:
    """The backend name: ``"ember"``."""
    return "ember"


def set_backend(backend):  # noqa: A002 - Keras's argument name
    """Keras switches its backend here; Ember is its own backend, so only ``"ember"`` is accepted."""
    if backend != "ember":
        raise NotImplementedError(
            f"set_backend({backend!r}): Ember runs Keras programs on its own engine and cannot switch to another "
            "backend; run the program under Keras itself (KERAS_BACKEND=...) for that"
        )


def set_floatx(value: str) -> None:
    """Set the default float dtype: ``"float16"``, ``"float32"`` or ``"float64"`` (bfloat16 is refused)."""
    if str(value) == "bfloat16":
        raise ValueError(
            "set_floatx: Ember computes on NumPy, which has no bfloat16; use 'float16', 'float32' or 'float64'"
        )
    try:
        name = str(numpy.dtype(value))
    except TypeError:
        raise ValueError(f"set_floatx: expected 'float16', 'float32' or 'float64', got {value!r}") from None
    if name not in ("float16", "float32", "float64"):
        raise ValueError(f"set_floatx: expected 'float16', 'float32' or 'float64', got {value!r}")
    _num.set_floatx(name)


# one DTypePolicy class, Keras's: it lives in ember.dtype_policies (keras.config exports only the two functions)
DTypePolicy = _policies.DTypePolicy
dtype_policy = _policies.dtype_policy
set_dtype_policy = _policies.set_dtype_policy


def enable_interactive_logging() -> None:
    """Progress output goes to stdout (the default)."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Progress output goes to the ``logging`` module instead of stdout (Keras's meaning)."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    return bool(_STATE["interactive_logging"])


def enable_traceback_filtering() -> None:
    """Recorded only: Ember never filters tracebacks."""
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Recorded only: Ember never filters tracebacks."""
    _STATE["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    return bool(_STATE["traceback_filtering"])


def enable_flash_attention() -> None:
    """Ask for flash attention; Ember has no such kernel, so attention calls that would use it refuse."""
    _STATE["flash_attention"] = True


def disable_flash_attention() -> None:
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    """None (the default: decide per call), True or False."""
    return _STATE["flash_attention"]


def is_nnx_enabled() -> bool:
    """False: Flax NNX is a JAX-backend feature."""
    return False


def enable_unsafe_deserialization() -> None:
    """Record that code-carrying objects may be loaded (Keras's global ``safe_mode=False``; see the module note)."""
    _STATE["unsafe_deserialization"] = True


def is_unsafe_deserialization_enabled() -> bool:
    """Whether :func:`enable_unsafe_deserialization` was called."""
    return bool(_STATE["unsafe_deserialization"])


def _positive_or_none(op, value):
    if value is None:
        return None
    if int(value) != value or int(value) < 1:
        raise ValueError(f"{op}: expected a positive int or None, got {value!r}")
    return int(value)


def set_max_epochs(max_epochs) -> None:  # noqa: A002 - Keras's name shadows the getter
    """Record a cap on the number of epochs of every ``fit`` (None: no cap; see the module note)."""
    _STATE["max_epochs"] = _positive_or_none("set_max_epochs", max_epochs)


def max_epochs():
    """The epoch cap set by :func:`set_max_epochs`, or None."""
    return _STATE["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch) -> None:
    """Record a cap on the number of steps of every epoch (None: no cap; see the module note)."""
    _STATE["max_steps_per_epoch"] = _positive_or_none("set_max_steps_per_epoch", max_steps_per_epoch)


def max_steps_per_epoch():
    """The per-epoch step cap set by :func:`set_max_steps_per_epoch`, or None."""
    return _STATE["max_steps_per_epoch"]
