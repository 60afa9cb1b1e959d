"""Ember's own worker threads: one op's work cut into parts that run at the same time.

An op whose work splits into independent parts (a dense product's rows, a Winograd convolution's images, an LSTM's
batch rows) may run them on several cores itself instead of leaving the cores to BLAS's threads, whose small
products barely use them and whose idle threads spin beside Ember's (after each multi-thread product OpenBLAS's
idle threads spin at 100% of a core for about 0.1 s). :func:`run_parts` runs the first part in the calling thread
and the others on persistent worker threads (one per CPU of the affinity mask but one; the kernels and NumPy's
products release the GIL), with every loaded BLAS held at one thread meanwhile. One split runs at a time: a call
that finds the workers taken (another thread splitting its own op, or a part splitting again) runs its parts one
after another in its own thread. The parts never depend on how they are run, so the numbers are the same either
way.

How many parts. Ember's thread policy (:mod:`ember.backend.threads`) sets the count inside a
``fit``/``evaluate``/``predict`` scope: in its split mode (``EMBER_THREAD_SPLIT=on``) the thread count it grants; 1
otherwise. Two kinds of op ask. The ops that gain most from cutting their own work (a convolution's images, an
LSTM's batch rows: OpenBLAS's threads barely help their small products) ask :func:`split_parts`; the first such call
in a scope *engages* the splits: BLAS is held at one thread for the rest of the scope. The ops that BLAS's own
threads serve about as well (a large dense product, whose threads share one packing and stay hot between products;
an optimizer's elementwise update) ask :func:`parts_once_split`, which answers the count only once the splits are
engaged, so a model of dense layers alone keeps BLAS at its threads (W1: 86k samples/s against 65k with its products
split), while in a convolutional or recurrent model every op splits and no BLAS thread spins beside the parts. A
scope starts engaged when the previous scope engaged (the next ``predict`` of the same model), and not otherwise.

Dispatch. Each worker sleeps on a lock of its own; handing it a part is a lock release, and the caller waits on
another lock that the worker releases when its part is done: a split of two empty parts took 9.4 us of CPU time
(19-25 us wall, the machine busy) on this project's machine, against 12.5 us (30 us wall) for a
``ThreadPoolExecutor`` submit and result (docs/performance.md, "the split mode"). The workers never spin: an idle
worker takes no CPU time.
"""

from __future__ import annotations

import os
import threading

__all__ = ["forced_parts", "parts_once_split", "run_parts", "set_split_parts", "split_parts"]

_workers = None  # the persistent worker threads (cores - 1), made on the first split
_busy = threading.Lock()  # held while a split runs
_parts = 1  # what split_parts() answers: set by the thread policy's scope (threads.py), 1 outside one
_blas_at_one = False  # the policy holds every BLAS at one thread for its scope: run_parts need not set it
_engage = None  # the policy's call that engages the splits (BLAS to one thread), until the first split_parts()
asked = False  # split_parts() has answered more than 1 (the policy clears it at a scope's entry, reads it at its end)


def split_parts() -> int:
    """How many parts an op that gains most from its own split (a convolution, an LSTM) may cut its work into now.

    1 outside a thread-policy scope (``fit``/``evaluate``/``predict``/``*_on_batch``), when the policy grants one
    thread (a busy machine), when the split mode is off (``EMBER_THREAD_SPLIT=off``), or inside a part of a split
    already running; otherwise the thread count the policy grants. The first call in a scope engages the splits
    (BLAS held at one thread from then on; see the module doc). A global read and a lock test: called per op.
    """
    global asked
    if _parts == 1 or _busy.locked():
        return 1
    if _engage is not None:
        _engage_splits()
    asked = True
    return _parts


def parts_once_split() -> int:
    """How many parts an op that BLAS's threads serve about as well (a large dense product, an elementwise update)
    may cut its work into now: :func:`split_parts`'s count once the scope's splits are engaged, else 1."""
    return 1 if _parts == 1 or _engage is not None or _busy.locked() else _parts


def _engage_splits() -> None:
    global _engage, _blas_at_one
    engage, _engage = _engage, None
    if engage is not None:
        engage()  # (the policy holds BLAS at one thread from here)
        _blas_at_one = True


def set_split_parts(n: int, blas_at_one: bool = False, engage=None) -> int:
    """Set what :func:`split_parts` answers (the thread policy does; tests may); returns the previous value.

    ``blas_at_one``: the caller holds every BLAS at one thread while this holds (run_parts then leaves it alone).
    ``engage``: a call that holds BLAS at one thread, made at the first :func:`split_parts`; until then
    :func:`parts_once_split` answers 1. Without it the splits are engaged at once.
    """
    global _parts, _blas_at_one, _engage
    previous, _parts, _blas_at_one, _engage = _parts, max(1, int(n)), bool(blas_at_one), engage
    return previous


class forced_parts:  # noqa: N801  (a context manager, used like a function)
    """``with workers.forced_parts(n):`` — :func:`split_parts` and :func:`parts_once_split` answer ``n`` inside
    (tests, benchmarks)."""

    __slots__ = ("_n", "_previous", "_at_one", "_engage")

    def __init__(self, n: int):
        self._n = n

    def __enter__(self):
        self._at_one, self._engage = _blas_at_one, _engage
        self._previous = set_split_parts(self._n, self._at_one)
        return self

    def __exit__(self, *exc):
        set_split_parts(self._previous, self._at_one, self._engage)
        return False


class _Worker:
    """One persistent thread: sleeps on ``_go`` until handed a list of parts, runs them, releases ``_done``."""

    __slots__ = ("_go", "_done", "_run", "_parts", "results", "error", "thread")

    def __init__(self, index: int):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._run = self._parts = self.results = self.error = None
        self.thread = threading.Thread(target=self._loop, name=f"ember-worker-{index}", daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            self._go.acquire()  # sleeps (no spinning) until start() releases it
            try:
                self.results = [self._run(*part) for part in self._parts]
            except BaseException as exc:  # raised in the caller by wait()
                self.error = exc
            self._run = self._parts = None
            self._done.release()

    def start(self, run, parts: list) -> None:
        self._run, self._parts, self.results, self.error = run, parts, None, None
        self._go.release()

    def wait(self) -> list:
        self._done.acquire()
        results, error, self.results, self.error = self.results, self.error, None, None
        if error is not None:
            raise error
        return results


def _forget() -> None:  # a forked child has none of its parent's threads, and may have copied the lock held
    global _workers, _busy, _parts, _blas_at_one, _engage
    _workers, _busy, _parts, _blas_at_one, _engage = None, threading.Lock(), 1, False, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def _the_workers() -> list:
    global _workers
    if _workers is None:
        try:
            cpus = len(os.sched_getaffinity(0))  # the CPUs this process may run on
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 2
        _workers = [_Worker(i) for i in range(max(1, cpus - 1))]
    return _workers


def run_parts(run, parts: list) -> list:
    """``[run(*part) for part in parts]``, the parts after the first on the worker threads at the same time.

    With more parts than threads, each thread runs its share one after another (part i on thread i mod threads).
    An exception raised by any part is raised here, after every part has finished (the first part's first).
    """
    if len(parts) < 2 or not _busy.acquire(blocking=False):
        return [run(*part) for part in parts]
    try:
        pool = _the_workers()
        threads = min(len(parts), len(pool) + 1)
        libs = counts = ()
        if not _blas_at_one:
            from .threads import blas_libraries

            libs = blas_libraries()
            counts = [lib.get_num_threads() for lib in libs]
            for lib in libs:
                if lib.get_num_threads() != 1:
                    lib.set_num_threads(1)
        try:
            started = []
            try:
                for t in range(1, threads):
                    pool[t - 1].start(run, parts[t::threads])
                    started.append(pool[t - 1])
                mine = [run(*part) for part in parts[0::threads]]
            finally:
                shares, error = [], None
                for worker in started:  # every part is waited for, even when the first raised
                    try:
                        shares.append(worker.wait())
                    except BaseException as exc:
                        error = error or exc
            if error is not None:
                raise error
            shares.insert(0, mine)
            return [shares[i % threads][i // threads] for i in range(len(parts))]
        finally:
            for lib, count in zip(libs, counts):
                if count != 1:
                    lib.set_num_threads(count)
    finally:
        _busy.release()
