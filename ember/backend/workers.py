"""Ember's own worker threads: one op's work cut into parts that run at the same time.

An op whose work splits into independent parts (a Winograd convolution's images, an LSTM's batch rows) may run
them on several cores itself instead of leaving the cores to BLAS's threads, whose small products barely use
them and whose idle threads spin beside Ember's. :func:`run_parts` runs the first part in the calling thread and
the others on a pool of worker threads (the kernels release the GIL), with every loaded BLAS held at one thread
meanwhile and its counts put back after. One split runs at a time: a call that finds the workers taken (another
thread splitting its own op) runs its parts one after another in its own thread. The parts never depend on how
they are run, so the numbers are the same either way.

The callers decide how many parts to make (from the count Ember's thread policy, :mod:`ember.backend.threads`,
left the BLAS); both splits are off by default (see ``ops.conv_kernels.WINOGRAD_PARTS`` and
``ops.recurrent.SPLIT_BATCH``).
"""

from __future__ import annotations

import os
import threading

_pool = None  # the worker threads (cores - 1), made on the first split
_busy = threading.Lock()  # held while a split runs
_parts = 1  # what split_parts() answers: set by the thread policy's scope (threads.py), 1 outside one


def split_parts() -> int:
    """How many parts an op may cut its work into right now (each run by :func:`run_parts` on its own thread).

    1 outside a thread-policy scope (``fit``/``evaluate``/``predict``/``*_on_batch``), when the policy grants one
    thread (a busy machine), or when the split mode is off (``EMBER_THREAD_SPLIT=off``); otherwise the thread count
    the policy grants (BLAS is then held at one thread for the whole scope). One global read: called per op.
    """
    return _parts


def set_split_parts(n: int) -> int:
    """Set what :func:`split_parts` answers (the thread policy does; tests may); returns the previous value."""
    global _parts
    previous, _parts = _parts, max(1, int(n))
    return previous


class forced_parts:  # noqa: N801  (a context manager, used like a function)
    """``with workers.forced_parts(n):`` — :func:`split_parts` answers ``n`` inside (tests, benchmarks)."""

    __slots__ = ("_n", "_previous")

    def __init__(self, n: int):
        self._n = n

    def __enter__(self):
        self._previous = set_split_parts(self._n)
        return self

    def __exit__(self, *exc):
        set_split_parts(self._previous)
        return False


def _forget() -> None:  # a forked child has none of its parent's threads, and may have copied the lock held
    global _pool, _busy, _parts
    _pool, _busy, _parts = None, threading.Lock(), 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def run_parts(run, parts: list) -> list:
    """``[run(*part) for part in parts]``, the parts after the first on the worker threads at the same time."""
    if len(parts) < 2 or not _busy.acquire(blocking=False):
        return [run(*part) for part in parts]
    try:
        global _pool
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="ember-worker")
        from .threads import blas_libraries

        libs = blas_libraries()
        counts = [lib.get_num_threads() for lib in libs]
        for lib in libs:
            lib.set_num_threads(1)
        try:
            later = [_pool.submit(run, *part) for part in parts[1:]]
            try:
                first = run(*parts[0])
            finally:
                results = [future.result() for future in later]  # (waited for even when the first part raised)
            return [first, *results]
        finally:
            for lib, count in zip(libs, counts):
                lib.set_num_threads(count)
    finally:
        _busy.release()
