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
