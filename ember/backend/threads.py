"""How many threads Ember's BLAS products (and its parallel numba kernels) use: a policy that survives a busy machine.

Why. OpenBLAS starts one thread per core and splits each large product among them; the threads meet at the end
of every product. When another process keeps a core busy, one of them is descheduled and the product waits for
its next time slice: on a 2-core machine with one CPU-bound neighbour, the seed CNN's training fell from 435 to
35-100 samples/s with 2 BLAS threads, against 348 with 1. What helps is measured (benchmarks/README.md, "Threads
and OpenBLAS"): on a quiet machine 2 threads beat 1 on every product of the benchmarks (1.2x on an LSTM step's
32x128x512, 1.8-2x on the dense and convolution products), and OpenBLAS already runs products under 2**18
multiply-adds on one thread, so op size alone gives no reason to drop threads; contention does.

The policy (mode ``"auto"``, the default). While ``fit``, ``evaluate`` or ``predict`` runs (the trainer enters
:func:`scope`), Ember estimates how many cores *other* processes keep busy: the machine's busy time from
/proc/stat minus this process's own CPU time (``getrusage``), over quarter-second windows, read by a small
monitor thread that runs only while a scope is open. BLAS gets the cores left over::

    threads = clamp(floor(cores - others + 0.3), 1, cores)     # with a 0.15-core hysteresis on the way up

so a neighbour that keeps a third of a core busy or more takes a BLAS thread away, and it comes back when the
neighbour stops. The monitor only decides: OpenBLAS ignores a count set from another thread once the main thread
has set one, so the thread that opened the scope applies the decision at its next batch (:func:`tick`, one
global read per batch when nothing changed). A new scope reuses an estimate younger than two seconds (about
10 µs per ``fit``/``predict`` call); without one, the instantaneous count of running tasks (/proc/stat's
``procs_running`` less this process's running threads) stands in until the first window ends (about 0.1 ms).
On leaving the outermost scope the thread count is put back as it was, so NumPy code outside
``fit``/``predict`` sees BLAS as the user left it. Changing the count is one C call (about a microsecond), made
only when the decision changes; on a quiet machine nothing is changed. The thread count can change the last bits
of some float32 products (OpenBLAS blocks them differently: seen on 128x784 @ 784x512, not on the convolution or
LSTM shapes), so results agree to float32 rounding, not bit for bit, across counts: for bit-for-bit reruns fix
the count (``EMBER_BLAS_THREADS=N``); the test suite runs with the policy off for that reason.

The count found when ``fit``/``predict`` starts is a ceiling: the policy only ever lowers it, so a limit set in
code around the call (threadpoolctl's ``threadpool_limits``) holds. Overrides, strongest first: :func:`set_policy`
in code; ``EMBER_BLAS_THREADS`` (``auto``, ``off``, or a thread count used inside ``fit``/``predict``); any of
``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` set in the environment
means the user chose, and the policy stays off.

numba. Ember's parallel numba kernels (``jit.kernel(parallel=True)``) get the same count through
``numba.set_num_threads`` in the thread that entered the scope (numba's setting is per thread), once numba's
thread pool exists; the policy never starts that pool itself.

Where it does nothing: without /proc/stat (macOS, Windows) ``auto`` leaves the threads alone; without a BLAS it
can find (threadpoolctl, or OpenBLAS found in /proc/self/maps) every mode does nothing. ``ember doctor`` says which.
threadpoolctl is optional: it is imported lazily, only to find the BLAS libraries.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import resource
import sys
import threading
import time
import warnings
from typing import NamedTuple

__all__ = [
    "choose_threads",
    "describe",
    "get_policy",
    "last_decision",
    "others_between",
    "parse_mode",
    "policy",
    "scope",
    "scoped",
    "set_policy",
    "tick",
]

USER_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MARGIN = 0.3  # a neighbour busy on this much of a core or more takes a BLAS thread away
HYSTERESIS = 0.15  # ... and it must fall this much further below before the thread comes back
WINDOW_S = 0.25  # the monitor's sampling period
FRESH_S = 2.0  # a measurement younger than this decides a new scope's start


# ------------------------------------------------------------------ the setting


def parse_mode(value, where: str = "EMBER_BLAS_THREADS"):
    """``"auto"``, ``"off"`` or a positive thread count from a setting's value (a string or an int)."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected 'auto', 'off' or a positive thread count, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"{where}: expected a positive thread count, got {value}")
        return value
    text = str(value).strip().lower()
    if text in ("auto", ""):
        return "auto"
    if text in ("off", "0", "none", "false", "no"):
        return "off"
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{where}: expected 'auto', 'off' or a positive thread count, got {value!r}") from None
    if count < 1:
        raise ValueError(f"{where}: expected a positive thread count, got {value!r}")
    return count


_set_by_code = None  # set_policy's value (wins over the environment), None when not called
_warned = set()  # bad EMBER_BLAS_THREADS values already warned about


def set_policy(mode) -> object:
    """Set the policy for this process: ``"auto"``, ``"off"``, a thread count, or None (back to the environment's).

    Returns the previous value given to this function (None if it was never called). Takes effect at the next
    ``fit``/``evaluate``/``predict``.
    """
    global _set_by_code
    previous = _set_by_code
    _set_by_code = None if mode is None else parse_mode(mode, "set_policy")
    return previous


def get_policy():
    """The mode in force: ``"auto"``, ``"off"`` or a thread count (see :func:`policy` for why)."""
    return policy()[0]


def policy(environ=None) -> tuple:
    """``(mode, why)``: the mode in force and the setting that decided it, in the override order of the module doc."""
    if _set_by_code is not None:
        return _set_by_code, "set_policy() in code"
    env = os.environ if environ is None else environ
    value = env.get("EMBER_BLAS_THREADS")
    if value is not None:
        try:
            return parse_mode(value), f"EMBER_BLAS_THREADS={value}"
        except ValueError as exc:
            if value not in _warned:  # a typo deserves one message, not an error inside fit
                _warned.add(value)
                warnings.warn(f"{exc}; the BLAS thread policy is off", RuntimeWarning, stacklevel=2)
            return "off", f"EMBER_BLAS_THREADS={value!r} is not 'auto', 'off' or a count: policy off"
    for var in USER_THREAD_VARS:
        if env.get(var):
            return "off", f"{var}={env[var]} is set: the user's thread count is kept"
    return "auto", "default"


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ measuring the neighbours


class Sample(NamedTuple):
    """One reading: wall clock (s), the machine's busy CPU time (s, all cores), this process's CPU time (s)."""

    wall: float
    busy: float
    own: float


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_proc_stat(text: str, hz: float = _CLOCK_TICKS) -> tuple[float, int | None]:
    """``(busy seconds on all CPUs since boot, procs_running)`` from /proc/stat's text.

    Busy is everything but ``idle`` and ``iowait`` (user, nice, system, irq, softirq, steal: steal is time a
    hypervisor gave another guest, which a busy neighbour costs just the same).
    """
    busy, running = None, None
    for line in text.splitlines():
        if line.startswith("cpu "):
            fields = [int(v) for v in line.split()[1:]]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
            # guest and guest_nice (fields 9 and 10) are already counted in user and nice
            busy = (sum(fields[:8]) - idle) / hz
        elif line.startswith("procs_running "):
            running = int(line.split()[1])
    if busy is None:
        raise ValueError("/proc/stat: expected a 'cpu ' line with the machine's CPU times, found none")
    return busy, running


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def take_sample() -> tuple[Sample, int | None] | None:
    """``(Sample, procs_running)`` now, or None where there is no /proc/stat."""
    text = _read("/proc/stat")
    if text is None:
        return None
    try:
        busy, running = parse_proc_stat(text)
    except (ValueError, IndexError):
        return None
    return Sample(time.monotonic(), busy, _own_cpu()), running


def others_between(a: Sample, b: Sample) -> float | None:
    """Cores that other processes kept busy between two samples (None when no time passed)."""
    wall = b.wall - a.wall
    if wall <= 0:
        return None
    return max(0.0, (b.busy - a.busy) - (b.own - a.own)) / wall


def own_running_threads() -> int:
    """This process's threads in the running state now (at least 1: the caller)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        text = _read(f"/proc/self/task/{tid}/stat")
        if text:
            # the state follows the command name, which is in parentheses and may hold spaces
            state = text.rpartition(")")[2].split()[:1]
            count += state == ["R"]
    return max(1, count)


def choose_threads(cores: int, others: float, current: int | None = None) -> int:
    """BLAS threads for ``cores`` usable CPUs when other processes keep ``others`` cores busy.

    ``current``: the count in force, for the hysteresis (a thread is given back only when the neighbours' load
    falls :data:`HYSTERESIS` below the point where it was taken away).
    """
    cores = max(1, int(cores))

    def clamp(x):
        return max(1, min(cores, math.floor(x)))

    down = clamp(cores - others + MARGIN)
    if current is None:
        return down
    up = clamp(cores - others + MARGIN - HYSTERESIS)
    if up > current:
        return up
    if down < current:
        return down
    return max(1, min(cores, current))


# ------------------------------------------------------------------ the BLAS and numba knobs


class _CtypesBlas:
    """An OpenBLAS found in /proc/self/maps, driven through its own set/get functions (no threadpoolctl)."""

    def __init__(self, path, setter, getter):
        self.filepath, self._set, self._get = path, setter, getter
        self.internal_api = "openblas"

    def get_num_threads(self):
        return int(self._get())

    def set_num_threads(self, n):
        self._set(int(n))


def _openblas_from_maps(maps_text: str | None = None) -> list:
    """OpenBLAS libraries this process has loaded, found by path in /proc/self/maps (threadpoolctl's fallback)."""
    maps_text = _read("/proc/self/maps") if maps_text is None else maps_text
    if not maps_text:
        return []
    paths = []
    for line in maps_text.splitlines():
        path = line.split(maxsplit=5)[5] if len(line.split(maxsplit=5)) == 6 else ""
        name = os.path.basename(path).lower()
        if "openblas" in name and ".so" in name and path not in paths:
            paths.append(path)
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        for prefix in ("", "scipy_"):
            for suffix in ("", "64_"):
                try:
                    setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}")
                    getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")
                except AttributeError:
                    continue
                setter.argtypes, setter.restype, getter.restype = (ctypes.c_int,), None, ctypes.c_int
                out.append(_CtypesBlas(path, setter, getter))
                break
            else:
                continue
            break
    return out


_blas_libs = None  # the controllers once found
_blas_source = None


def blas_libraries() -> list:
    """Controllers (``get_num_threads``/``set_num_threads``) of the BLAS libraries NumPy loaded; found once."""
    global _blas_libs, _blas_source
    if _blas_libs is None:
        import numpy  # noqa: F401  (the BLAS is loaded with NumPy)

        libs, source = [], None
        try:
            import threadpoolctl

            libs = list(threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers)
            source = "threadpoolctl"
        except Exception:  # not installed or broken: look for OpenBLAS ourselves
            libs = []
        if not libs:
            libs = _openblas_from_maps()
            source = "/proc/self/maps" if libs else None
        _blas_libs, _blas_source = libs, source
    return _blas_libs


def _blas_threads() -> int | None:
    libs = blas_libraries()
    return libs[0].get_num_threads() if libs else None


def _set_blas_threads(n: int) -> None:
    for lib in blas_libraries():
        lib.set_num_threads(n)


def _numba_pool_started() -> bool:
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return bool(parallel is not None and getattr(parallel, "_is_initialized", False))


def _numba_threads(n: int | None) -> int | None:
    """Set this thread's numba count to ``n`` (capped at numba's pool) if the pool exists; returns the old count."""
    if n is None or not _numba_pool_started():
        return None
    numba = sys.modules["numba"]
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return old


# ------------------------------------------------------------------ the monitor and the scope


_lock = threading.RLock()
_wake = threading.Condition(_lock)
_depth = 0
_saved = None  # BLAS threads before the outermost scope
_current = None  # BLAS threads set by the policy now
_mode = None  # the mode of the open scope
_last = None  # (Sample, others or None) of the last reading
_others = None  # the latest estimate of the neighbours' cores, with its time
_others_at = -math.inf
_monitor = None
_decided = None  # the policy's last decision (the hysteresis' reference when the next scope opens)
_owner = None  # the thread that opened the outermost scope: the one that applies decisions
_pending = None  # the monitor's decision, waiting for the owner's next tick()
_numba_saved = None  # numba's thread count before the scope changed it
_monitor_idle = False  # the monitor waits for a scope to open (only then does an opening scope wake it)


def _update(now: Sample) -> None:
    """Fold a new sample into the estimate of the neighbours' load (windows longer than FRESH_S are too stale)."""
    global _last, _others, _others_at
    if _last is None:
        _last = now
        return
    span = now.wall - _last.wall
    if span >= WINDOW_S / 2:
        if span <= FRESH_S:
            _others, _others_at = others_between(_last, now), now.wall
        _last = now


def _apply(n: int) -> None:
    """Set BLAS (and numba's pool, if started) to ``n`` threads; call only from the scope's owner thread."""
    global _current, _decided, _numba_saved
    if n != _current:
        _set_blas_threads(n)
        _current = n
    _decided = n
    old = _numba_threads(n)
    if _numba_saved is None:
        _numba_saved = old


def tick() -> None:
    """Apply the monitor's new decision, if any; the trainer calls this once per batch (a global read when none).

    OpenBLAS takes thread counts from the thread that runs the products (a count set from another thread is
    ignored once the main thread has set one), so the monitor only decides and the fit/predict thread applies.
    """
    if _pending is not None and threading.get_ident() == _owner:
        _apply_pending()


def _apply_pending() -> None:
    global _pending
    with _lock:
        n, _pending = _pending, None
        if n is not None and _depth > 0:
            try:
                _apply(n)
            except Exception:  # a policy must never break training
                pass


def _monitor_loop():
    global _pending, _monitor_idle
    while True:
        with _lock:
            while _depth == 0 or _mode != "auto":
                _monitor_idle = True  # the next scope to open wakes it
                _wake.wait()
            _monitor_idle = False
            _wake.wait(WINDOW_S)  # releases the lock while waiting; nobody wakes it early (no thread switches)
            if _depth == 0 or _mode != "auto":
                continue
            got = take_sample()
            if got is None:
                continue
            _update(got[0])
            if _others is not None and got[0].wall - _others_at <= FRESH_S:
                n = _choose(_others, _current)
                _pending = n if n != _current else None


def _start_monitor():
    global _monitor
    if _monitor is None:
        _monitor = threading.Thread(target=_monitor_loop, name="ember-blas-threads", daemon=True)
        _monitor.start()


def _choose(others: float, current: int | None) -> int:
    """choose_threads for this machine, never above the count found when the scope opened: a limit the user set
    in code (threadpoolctl's ``threadpool_limits(1)`` around ``fit``) is a ceiling the policy only lowers."""
    n = choose_threads(usable_cores(), others, current)
    return min(n, _saved) if _saved else n


def _decide_at_entry() -> int | None:
    """The thread count for a scope that opens now (called with the lock held)."""
    global _others, _others_at
    now, running = time.monotonic(), None
    if _last is None or now - _last.wall >= WINDOW_S / 2:  # at most a few /proc reads a second
        got = take_sample()
        if got is None:
            return None
        _update(got[0])
        running = got[1]
    if _others is not None and now - _others_at <= FRESH_S:
        return _choose(_others, _decided)
    if running is None:
        got = take_sample()
        running = got[1] if got is not None else None
        if running is None:
            return None
    # no measured window yet: the tasks running now stand in (until a window ends, or for FRESH_S at most)
    _others, _others_at = float(max(0, running - own_running_threads())), now
    return _choose(_others, None)


class scope:  # noqa: N801  (used as a context manager, like a function)
    """``with threads.scope():`` — the policy holds inside (nested scopes share the outermost one's state)."""

    __slots__ = ("_active",)

    def __enter__(self):
        global _depth, _saved, _current, _mode, _owner, _pending, _numba_saved
        self._active = False
        mode = policy()[0]
        if mode == "off":
            return self
        with _lock:
            _depth += 1
            self._active = True
            if _depth > 1:
                if _pending is not None and threading.get_ident() == _owner:
                    _apply_pending()
                return self
            _owner, _pending, _numba_saved = threading.get_ident(), None, None
            try:
                _saved = _blas_threads()
                _current, _mode = _saved, mode
                if _saved is None:  # no BLAS we can drive
                    return self
                n = mode if isinstance(mode, int) else _decide_at_entry()
                if n is not None:
                    _apply(n)
                if mode == "auto":
                    _start_monitor()
                    if _monitor_idle:
                        _wake.notify_all()
            except Exception:  # a policy must never break training: leave the threads as they are
                _mode = "off"
        return self

    def __exit__(self, *exc):
        global _depth, _current, _mode, _owner, _pending, _numba_saved
        if not self._active:
            return False
        with _lock:
            _depth -= 1
            if _depth == 0:
                try:
                    if _saved is not None and _current != _saved:
                        _set_blas_threads(_saved)
                    if _numba_saved is not None:
                        _numba_threads(_numba_saved)
                except Exception:
                    pass
                _current, _mode, _owner, _pending, _numba_saved = None, None, None, None, None
        return False


def _after_fork_in_child() -> None:
    """A forked child has no monitor thread and may have copied the lock held: start clean."""
    global _lock, _wake, _depth, _monitor, _owner, _pending, _current, _mode, _saved, _numba_saved, _monitor_idle
    _lock = threading.RLock()
    _wake = threading.Condition(_lock)
    _depth = 0
    _monitor = _owner = _pending = _current = _mode = _saved = _numba_saved = None
    _monitor_idle = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def scoped(function):
    """Decorator: run ``function`` (a ``fit``, ``evaluate`` or ``predict``) inside :func:`scope`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with scope():
            return function(*args, **kwargs)

    return wrapper


def last_decision() -> int | None:
    """The BLAS thread count the policy chose last (None before its first decision)."""
    return _decided


def describe() -> dict:
    """The policy's state for ``ember doctor``: mode and why, cores, the BLAS found and its threads now."""
    mode, why = policy()
    libs = blas_libraries()
    return {
        "mode": mode,
        "why": why,
        "cores": usable_cores(),
        "blas_found_by": _blas_source,
        "blas_threads": libs[0].get_num_threads() if libs else None,
        "proc_stat": _read("/proc/stat") is not None,
        "numba_pool_started": _numba_pool_started(),
    }


def _reset_for_tests() -> None:
    """Forget the measurements and the code setting (tests only; never inside an open scope)."""
    global _set_by_code, _last, _others, _others_at, _blas_libs, _blas_source, _decided
    _set_by_code, _last, _others, _others_at, _decided = None, None, None, -math.inf, None
    _blas_libs, _blas_source = None, None
