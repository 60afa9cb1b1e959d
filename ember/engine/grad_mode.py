"""Whether ops record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The switch is per thread, as in PyTorch, so a background data thread that runs
ops never turns recording off for the training thread.
"""

from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when new ops record the graph needed for ``backward()``."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:  # noqa: N801 - a context manager named like the function it is
    """Turn graph recording on or off: at once, or inside a ``with`` block.

    ``set_grad_enabled(False)`` takes effect immediately; used as a context
    manager it restores the previous mode on exit.
    """

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        _state.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class _GradModeContext:
    """Base of ``no_grad`` and ``enable_grad``: a context manager and a decorator."""

    mode = True

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside run without recording the graph (inference, parameter updates)."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True
