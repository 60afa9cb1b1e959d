"""Compiled CPU kernels (numba), with the NumPy code as the fallback everywhere.

Where a sequence of small NumPy calls is the bottleneck (an LSTM step's gate arithmetic, a convolution's
col2im, an optimizer's update over millions of parameters), an op also carries a numba version of the same
arithmetic. numba is one of Ember's default dependencies, so ``pip install ember`` runs these kernels (the
``speed`` extra is kept as an alias for old install commands). ``import ember`` itself still needs only NumPy:
without numba (not installed, or failing to import: one warning says why), with ``EMBER_JIT=0`` in the
environment, or after ``set_enabled(False)``, every op runs its NumPy path. Both paths are tested against each
other, so they must compute the same numbers (float32-honest: the order of a sum may differ). ``ember doctor``
says which kernels are active and why.

numba is imported on the first kernel call, never at ``import ember``. Each kernel compiles on its first call
per argument types and is cached on disk (``cache=True``: ``__pycache__`` beside the op's source, numba's user
cache directory when that is read-only, or ``NUMBA_CACHE_DIR``), so only a machine's first run pays for it:
measured cold on this project's machine (one thread), the first ``fit`` + ``predict`` of the seed CNN costs
about 3 s more CPU than with a warm cache, the IMDB LSTM's about 3.3 s; with the cache warm the first call costs
what the NumPy path's does.

Usage in an op module::

    from ..backend import jit

    @jit.kernel
    def _lstm_gates(z, c_prev, ...):   # plain Python loops over arrays, numba's subset
        ...

    fused = _lstm_gates.compiled()     # the numba dispatcher, or None: take the NumPy path
    if fused is not None and array.flags.c_contiguous:
        fused(z, c_prev, ...)
    else:
        ...                            # NumPy
"""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings


def switched_off(value: str | None) -> bool:
    """Whether an ``EMBER_JIT`` value turns the kernels off (``0``, ``false``, ``off``, ``no``; unset is on)."""
    return value is not None and value.strip().lower() in ("0", "false", "off", "no")


_lock = threading.Lock()
_enabled = not switched_off(os.environ.get("EMBER_JIT"))
_numba = None  # the module once imported; False when it could not be


def _load_numba():
    global _numba
    if _numba is None:
        with _lock:
            if _numba is None:
                if importlib.util.find_spec("numba") is None:
                    _numba = False
                else:
                    try:
                        import numba

                        _numba = numba
                    except Exception as exc:  # a broken install must not break training: fall back, say why once
                        warnings.warn(
                            f"numba is installed but failed to import ({type(exc).__name__}: {exc}); "
                            "Ember uses its NumPy kernels instead.",
                            RuntimeWarning,
                            stacklevel=3,
                        )
                        _numba = False
    return _numba


def available() -> bool:
    """Whether numba kernels will be used: numba imports and they are not switched off."""
    return _enabled and bool(_load_numba())


def enabled() -> bool:
    """The switch alone (``EMBER_JIT`` / :func:`set_enabled`), without importing numba."""
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Turn the numba kernels on or off for this process; returns the previous setting (tests use this)."""
    global _enabled
    previous, _enabled = _enabled, bool(flag)
    return previous


class Kernel:
    """A Python function that numba compiles on first use; :meth:`compiled` is None when it cannot."""

    def __init__(self, function, options: dict):
        self.function = function
        self.options = options
        self._dispatcher = None
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__

    def compiled(self):
        """The numba dispatcher (compiling lazily, per argument types, on its first call), or None."""
        if not _enabled:
            return None
        dispatcher = self._dispatcher
        if dispatcher is None:
            numba = _load_numba()
            if not numba:
                return None
            try:
                dispatcher = numba.njit(**self.options)(self.function)
            except RuntimeError:  # no place to cache it (a function defined in a string or a read-only tree)
                dispatcher = numba.njit(**{**self.options, "cache": False})(self.function)
            self._dispatcher = dispatcher
        return dispatcher

    def __call__(self, *args):
        """Run the compiled kernel if there is one, else the plain Python function (slow: tests only)."""
        dispatcher = self.compiled()
        return (dispatcher or self.function)(*args)


def kernel(function=None, *, parallel: bool = False, fastmath: bool = False):
    """Decorator: mark a numba-subset function as an optional compiled kernel (see the module docstring).

    ``fastmath`` stays off by default so the kernel computes what the NumPy path computes.
    """
    options = dict(cache=True, nogil=True, parallel=parallel, fastmath=fastmath, error_model="numpy")

    def wrap(fn):
        return Kernel(fn, options)

    return wrap(function) if function is not None else wrap
