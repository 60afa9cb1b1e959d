"""How many threads Ember's BLAS products (and its parallel numba kernels) use: a policy that survives a busy machine.

Why. OpenBLAS starts one thread per core and splits each large product among them; the threads meet at the end
of every product. When another process keeps a core busy, one of them is descheduled and the product waits for
its next time slice: on a 2-core machine with one CPU-bound neighbour, the seed CNN's training fell from 435 to
35-100 samples/s with 2 BLAS threads, against 348 with 1. What helps is measured (benchmarks/README.md, "Threads
and OpenBLAS"): on a quiet machine 2 threads beat 1 on every product of the benchmarks (1.2x on an LSTM step's
32x128x512, 1.8-2x on the dense and convolution products), and OpenBLAS already runs products under 2**18
multiply-adds on one thread, so op size alone gives no reason to drop threads; contention does.

The policy (mode ``"auto"``, the default). While ``fit``, ``evaluate``, ``predict`` or one of the ``*_on_batch``
calls runs (the trainer enters :func:`scope`), Ember estimates how many CPUs *other* processes keep busy: the busy
time of the CPUs this process may run on (/proc/stat's per-CPU lines, restricted to its affinity mask) minus this
process's own CPU time (``getrusage``), over quarter-second windows read by a small monitor thread that runs only
while a scope is open (and at a scope's entry, at most a few times a second). BLAS gets the CPUs left over::

    threads = clamp(floor(cpus - others + 0.3), 1, cores)

where ``cpus`` counts the affinity mask and ``cores`` is that count capped by the cgroup's CPU quota (cgroup v2
``cpu.max``, v1 ``cpu.cfs_quota_us``; a quota of 1.5 CPUs allows 1 thread: a thread beyond the quota spends it
spinning at OpenBLAS's barriers, and the whole group is throttled). Transients do not count: a thread is taken
away only when *every* window of the last second (:data:`SUSTAIN_S`) shows the neighbours on a third of a core
more than it can spare, and given back when every window of the last half second (:data:`RECOVER_S`) shows them
0.15 below that point. So a job that ends as ``fit`` starts, or a burst shorter than a second, leaves the threads
alone; a neighbour that stays costs one second at the old count; one that leaves gives the thread back within
about 0.5-0.75 s (the next batch applies it). Readings older than two seconds (:data:`FRESH_S`) are forgotten:
a call that starts after a longer pause starts at the full count, and a short call right after another reuses
the last decision and its readings (a series of ``predict`` calls is judged over the series).

The monitor only decides: OpenBLAS ignores a count set from another thread once the main thread has set one, so
the thread that opened the scope applies the decision at its next batch (:func:`tick`, one global read per batch
when nothing changed) or at the next scope it opens. A scope's entry costs a few microseconds when it changes
nothing (see docs/performance.md for the figures). On leaving the outermost scope the thread count is put back
as it was, so NumPy code outside those calls sees BLAS as the user left it. Changing the count is one C call
(about a microsecond), made only when the decision changes; on a quiet machine nothing is changed. The thread count
can change the last bits of some float32 products (OpenBLAS blocks them differently: seen on 128x784 @ 784x512,
not on the convolution or LSTM shapes), so results agree to float32 rounding, not bit for bit, across counts: for
bit-for-bit reruns fix the count (``EMBER_BLAS_THREADS=N``); the test suite runs with the policy off for that reason.

The count found when a call starts is a ceiling: the policy only lowers it (and gives back up to it), so a limit
set in code around the call (threadpoolctl's ``threadpool_limits``) holds. Overrides, strongest first:
:func:`set_policy` in code; ``EMBER_BLAS_THREADS`` (``auto``, ``off``, or a thread count used inside the calls);
any of ``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` set in the
environment means the user chose, and the policy stays off.

The split mode (``EMBER_THREAD_SPLIT``, ``on`` by default; ``off`` gives the behaviour before it). When the
policy grants N >= 2 threads, BLAS is held at *one* thread for the whole scope and the N threads go to Ember's own
splits instead: :func:`ember.backend.workers.split_parts` answers N, and the ops that cut their work into parts
(the large dense products, :mod:`ember.ops.split_matmul`; the Winograd convolution's images; the LSTM's batch
rows; the optimizers' large updates) run them on Ember's worker threads. Why: after every multi-thread product
OpenBLAS's idle threads spin at 100% of a core for about 0.1 s (setting one thread does not stop a spin already
running), and a training step calls BLAS every few ms, so with BLAS at 2 threads Ember's own parallel parts ran
beside a spinning thread and gained nothing. When the policy grants one thread (a busy machine) both BLAS and
``split_parts()`` are at 1, as without the split mode. With ``off``, BLAS gets the N threads and ``split_parts()``
stays 1. A fixed ``EMBER_BLAS_THREADS=N`` is split the same way. The split ops give the bits of the one-thread
product whatever N is, so in the split mode results do not depend on the thread count. :func:`set_split` in code
wins over the environment; the user's own BLAS settings (the variables below, a threadpoolctl limit) still win
over both: the policy is then off or capped, and a cap of one thread means no split.

numba. Ember's parallel numba kernels (``jit.kernel(parallel=True)``) get the same count through
``numba.set_num_threads`` in the thread that entered the scope (numba's setting is per thread), once numba's
thread pool exists; the policy never starts that pool itself.

Outside it: a plain ``model(x)`` (``Layer.__call__``) in a user's loop, and the user's own NumPy code. A loop
that wants the policy opens one scope around itself (``with threads.scope():`` ... ``threads.tick()`` once per
step). Where it does nothing: without /proc/stat (macOS, Windows) ``auto`` only applies the cgroup cap; without a
BLAS it can find (threadpoolctl, or OpenBLAS found in /proc/self/maps) every mode does nothing. ``ember doctor``
says which. threadpoolctl is optional: it is imported lazily, only to find the BLAS libraries.
"""

from __future__ import annotations

import collections
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

from . import workers

__all__ = [
    "LoadHistory",
    "cgroup_cpu_limit",
    "choose_threads",
    "decide",
    "describe",
    "get_policy",
    "last_decision",
    "others_between",
    "parse_mode",
    "policy",
    "scope",
    "scoped",
    "set_policy",
    "set_split",
    "split_mode",
    "tick",
    "usable_cores",
]

SPLIT_DEFAULT = True  # EMBER_THREAD_SPLIT unset: the split mode (see the module doc; benchmarks/README.md, "Threads")
USER_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MARGIN = 0.3  # neighbours busy on this much of a core more than we can spare take a BLAS thread away ...
HYSTERESIS = 0.15  # ... and they must fall this much further below before the thread comes back
WINDOW_S = 0.25  # the monitor's sampling period
SUSTAIN_S = 1.0  # every window of the last this-many seconds must be busy before a thread is taken away
RECOVER_S = 0.5  # every window of the last this-many seconds must be quiet before a thread is given back
FRESH_S = 2.0  # readings older than this (or a window longer than this) say nothing about now


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
    if environ is None and _none_of_our_variables():
        return "auto", "default"
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


_split_by_code = None  # set_split's value (wins over EMBER_THREAD_SPLIT), None when not called


def parse_split(value, where: str = "EMBER_THREAD_SPLIT") -> bool:
    """True for ``on`` (also ``1``, ``true``, ``yes``), False for ``off`` (``0``, ``false``, ``no``); '' the default."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return SPLIT_DEFAULT
    if text in ("on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no", "none"):
        return False
    raise ValueError(f"{where}: expected 'on' or 'off', got {value!r}")


def set_split(value) -> object:
    """Choose the split mode in code: True/``"on"``, False/``"off"``, or None (back to ``EMBER_THREAD_SPLIT``).
    Returns the previous value given to this function. Takes effect at the next ``fit``/``evaluate``/``predict``."""
    global _split_by_code
    previous = _split_by_code
    _split_by_code = None if value is None else parse_split(value, "set_split")
    return previous


def split_mode() -> bool:
    """Whether the split mode is on (:func:`set_split`, else ``EMBER_THREAD_SPLIT``, else :data:`SPLIT_DEFAULT`)."""
    if _split_by_code is not None:
        return _split_by_code
    if _no_split_variable():
        return SPLIT_DEFAULT
    value = os.environ.get("EMBER_THREAD_SPLIT")
    if value is None:
        return SPLIT_DEFAULT
    try:
        return parse_split(value)
    except ValueError as exc:
        if ("split", value) not in _warned:  # a typo deserves one message, not an error inside fit
            _warned.add(("split", value))
            warnings.warn(
                f"{exc}; the split mode stays {'on' if SPLIT_DEFAULT else 'off'}", RuntimeWarning, stacklevel=2
            )
        return SPLIT_DEFAULT


def _environ_lookup(names=("EMBER_BLAS_THREADS", *USER_THREAD_VARS)):
    """A quick test of whether os.environ holds none of the variables the policy reads: ``os.environ.get`` of a
    missing name costs about 0.6 us (it raises and catches a KeyError), five of them on every ``predict`` call
    add up; CPython's os.environ keeps its encoded names in a dict, which answers in nanoseconds."""
    data, encode = getattr(os.environ, "_data", None), getattr(os.environ, "encodekey", None)
    if not isinstance(data, dict) or encode is None:
        return lambda: False  # another Python: always take the ordinary path
    try:
        keys = tuple(encode(name) for name in names)
    except Exception:
        return lambda: False
    view = data.keys()
    return lambda: view.isdisjoint(keys)


_none_of_our_variables = _environ_lookup()
_no_split_variable = _environ_lookup(("EMBER_THREAD_SPLIT",))


# ------------------------------------------------------------------ the CPUs this process may use


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup", self_cgroup: str | None = None) -> float | None:
    """CPUs' worth of time this process's cgroups allow (the smallest ``quota / period`` from its cgroup up to
    the hierarchy's root), or None without a quota. ``self_cgroup``: the text of /proc/self/cgroup (read if None).

    cgroup v2 keeps ``cpu.max`` (``"max 100000"`` or ``"150000 100000"``), v1 ``cpu.cfs_quota_us`` (``-1``: none)
    and ``cpu.cfs_period_us``. Inside a container the process's own cgroup is usually the mount's root (the path
    in /proc/self/cgroup then names a folder that does not exist there), so the root is read too.
    """
    text = _read("/proc/self/cgroup") if self_cgroup is None else self_cgroup
    if not text:
        return None
    limits = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1], parts[2].strip().strip("/")
        if controllers == "":
            version, bases = 2, [root]
        elif "cpu" in controllers.split(","):
            version, bases = 1, [os.path.join(root, name) for name in (controllers, "cpu", "cpu,cpuacct")]
        else:
            continue
        for base in dict.fromkeys(bases):
            if not os.path.isdir(base):
                continue
            folder = os.path.join(base, path) if path else base
            if not os.path.isdir(folder):
                folder = base
            while True:
                limit = _cgroup_v2_limit(folder) if version == 2 else _cgroup_v1_limit(folder)
                if limit is not None:
                    limits.append(limit)
                if os.path.samefile(folder, base) or os.path.dirname(folder) == folder:
                    break
                folder = os.path.dirname(folder)
            break
    return min(limits) if limits else None


def _cgroup_v2_limit(folder: str) -> float | None:
    text = _read(os.path.join(folder, "cpu.max"))
    fields = text.split() if text else []
    if len(fields) < 1 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1]) if len(fields) > 1 else 100_000
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _cgroup_v1_limit(folder: str) -> float | None:
    quota, period = _read(os.path.join(folder, "cpu.cfs_quota_us")), _read(os.path.join(folder, "cpu.cfs_period_us"))
    try:
        quota, period = int(quota), int(period)
    except (TypeError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def affinity_cpus() -> frozenset | None:
    """The CPU numbers this process may run on (its affinity mask), or None where the OS has no such mask."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def usable_cores(cpus: int | None = None, quota: float | None = -1.0) -> int:
    """The most BLAS threads worth running: the CPUs of the affinity mask, capped by the cgroup quota rounded
    down (at least 1). ``cpus``/``quota``: given values instead of this process's (tests; ``quota=None``: none)."""
    if cpus is None:
        mask = affinity_cpus()
        cpus = len(mask) if mask else (os.cpu_count() or 1)
    if quota == -1.0:
        quota = cgroup_cpu_limit()
    cores = max(1, int(cpus))
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota + 1e-6)))
    return cores


# ------------------------------------------------------------------ measuring the neighbours


class Sample(NamedTuple):
    """One reading: wall clock (s), busy CPU time of the CPUs we may use (s, summed), this process's CPU time (s)."""

    wall: float
    busy: float
    own: float


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_of(fields: list) -> float:
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest and guest_nice (fields 9 and 10) are already counted in user and nice
    return sum(fields[:8]) - idle


def parse_proc_stat(text: str, hz: float = _CLOCK_TICKS, cpus=None) -> tuple[float, int | None]:
    """``(busy seconds since boot, procs_running)`` from /proc/stat's text: of every CPU (the ``cpu`` line), or of
    the CPU numbers in ``cpus`` (their ``cpuN`` lines; the ``cpu`` line if none of them is listed).

    Busy is everything but ``idle`` and ``iowait`` (user, nice, system, irq, softirq, steal: steal is time a
    hypervisor gave another guest, which a busy neighbour costs just the same).
    """
    total, running, some, ours = None, None, 0.0, False
    for line in text.splitlines():
        if line.startswith("cpu"):
            name, _, rest = line.partition(" ")
            if name == "cpu":
                total = _busy_of([int(v) for v in rest.split()])
                if cpus is None:
                    continue
            elif cpus is not None and name[3:].isdigit() and int(name[3:]) in cpus:
                some += _busy_of([int(v) for v in rest.split()])
                ours = True
        elif line.startswith("procs_running "):
            running = int(line.split()[1])
            break  # nothing we read comes after it
    if ours:
        return some / hz, running
    if total is None:
        raise ValueError("/proc/stat: expected a 'cpu ' line with the machine's CPU times, found none")
    return total / hz, running


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def take_sample(cpus="affinity") -> tuple[Sample, int | None] | None:
    """``(Sample, procs_running)`` now, over the CPU numbers ``cpus`` (None: all; by default those of this
    process's affinity mask), or None without /proc/stat."""
    if isinstance(cpus, str):
        mask = affinity_cpus()
        cpus = mask if mask and len(mask) != (os.cpu_count() or 0) else None
    text = _read("/proc/stat")
    if text is None:
        return None
    try:
        busy, running = parse_proc_stat(text, cpus=cpus)
    except (ValueError, IndexError):
        return None
    return Sample(time.monotonic(), busy, _own_cpu()), running


def others_between(a: Sample, b: Sample) -> float | None:
    """CPUs that other processes kept busy between two samples (None when no time passed)."""
    wall = b.wall - a.wall
    if wall <= 0:
        return None
    return max(0.0, (b.busy - a.busy) - (b.own - a.own)) / wall


class LoadHistory:
    """The neighbours' load window by window (a window runs from one sample to the next): what decisions look at.

    A sample closer than half a :data:`WINDOW_S` to the previous one is skipped (too short to measure); a window
    longer than :data:`FRESH_S` (a pause between calls) forgets everything before it, itself included.
    """

    __slots__ = ("last", "windows")

    def __init__(self):
        self.last = None  # the sample the next window starts at
        self.windows = collections.deque()  # (end wall time, seconds, others' CPUs), oldest first

    def add(self, sample: Sample) -> None:
        if self.last is None:
            self.last = sample
            return
        span = sample.wall - self.last.wall
        if span < WINDOW_S / 2:
            return
        if span > FRESH_S:
            self.windows.clear()
        else:
            self.windows.append((sample.wall, span, others_between(self.last, sample)))
            keep = max(SUSTAIN_S, RECOVER_S)
            total = sum(w[1] for w in self.windows)
            while self.windows and total - self.windows[0][1] >= keep:  # the rest still covers the look-back
                total -= self.windows.popleft()[1]
        self.last = sample

    def fresh(self, now: float) -> bool:
        """Whether the latest window ended less than :data:`FRESH_S` ago."""
        return bool(self.windows) and now - self.windows[-1][0] <= FRESH_S

    def level(self, now: float, seconds: float, reduce=min) -> float | None:
        """``reduce`` (min or max) of the neighbours' load over the latest windows that together cover
        ``seconds``; None when the readings are stale or do not reach that far back."""
        if not self.fresh(now):
            return None
        covered, values = 0.0, []
        for _, span, others in reversed(self.windows):
            values.append(others)
            covered += span
            if covered >= seconds - 1e-9:
                return reduce(values)
        return None

    def clear(self) -> None:
        self.last = None
        self.windows.clear()


def choose_threads(cores: int, others: float, current: int | None = None, cpus: int | None = None) -> int:
    """BLAS threads worth running when other processes keep ``others`` of ``cpus`` CPUs busy (``cpus``: the CPUs
    the load is measured over, ``cores`` when None), at most ``cores`` (the cap: affinity and quota).

    ``current``: the count in force, for the hysteresis (a thread is given back only when the neighbours' load
    falls :data:`HYSTERESIS` below the point where it was taken away).
    """
    cores = max(1, int(cores))
    cpus = cores if cpus is None else max(1, int(cpus))

    def clamp(x):
        return max(1, min(cores, math.floor(x)))

    down = clamp(cpus - others + MARGIN)
    if current is None:
        return down
    up = clamp(cpus - others + MARGIN - HYSTERESIS)
    if up > current:
        return up
    if down < current:
        return down
    return max(1, min(cores, current))


def decide(history: LoadHistory, now: float, cores: int, current: int, cpus: int | None = None) -> int:
    """The thread count after ``current``, from the readings: fewer only when the neighbours stayed busy through
    every window of the last :data:`SUSTAIN_S`, more only when they stayed quiet through every window of the last
    :data:`RECOVER_S`; otherwise ``current`` (capped at ``cores``)."""
    n = max(1, min(int(cores), int(current)))
    lasting = history.level(now, SUSTAIN_S, min)  # the least they took in any window of the last second
    if lasting is not None:
        down = choose_threads(cores, lasting, cpus=cpus)
        if down < n:
            return down
    lately = history.level(now, RECOVER_S, max)  # the most they took in any window of the last half second
    if lately is not None:
        up = choose_threads(cores, lately, n, cpus=cpus)
        if up > n:
            return up
    return n


# ------------------------------------------------------------------ the BLAS and numba knobs


class _CtypesBlas:
    """An OpenBLAS driven through its own set/get functions: one found in /proc/self/maps (no threadpoolctl), or
    one threadpoolctl found (:func:`_direct`)."""

    def __init__(self, path, setter, getter, architecture=None, threading_layer=None):
        self.filepath, self._set, self._get = path, setter, getter
        self.internal_api = "openblas"
        self.architecture, self.threading_layer = architecture, threading_layer

    def get_num_threads(self):
        return int(self._get())

    def set_num_threads(self, n):
        self._set(int(n))


def _direct(lib):
    """threadpoolctl's controller of a pthreads OpenBLAS as direct calls to OpenBLAS's own set/get functions.

    Why: threadpoolctl (3.8) lets only the first Python thread that set an OpenBLAS count set it again (a count set
    from any other thread is silently dropped), though OpenBLAS's pthreads count is one for the process; and its
    Python layers cost about 1 us a call, which the split mode pays twice per ``predict_on_batch`` (BLAS to one
    thread at the scope's entry, back at its exit). Other BLAS (MKL, OpenMP builds) keep threadpoolctl's controller.
    """
    if getattr(lib, "internal_api", None) != "openblas" or getattr(lib, "threading_layer", None) == "openmp":
        return lib
    try:
        symbol = lib._get_symbol  # (threadpoolctl's own lookup, which knows the 64-bit and scipy_ prefixes)
        setter, getter = symbol("openblas_set_num_threads"), symbol("openblas_get_num_threads")
        if setter is None or getter is None:
            return lib
        setter.argtypes, setter.restype, getter.restype = (ctypes.c_int,), None, ctypes.c_int
        return _CtypesBlas(lib.filepath, setter, getter, lib.architecture, lib.threading_layer)
    except Exception:  # another threadpoolctl version: its controller as it is
        return lib


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

            found = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
            libs = [_direct(lib) for lib in found]
            source = "threadpoolctl"
        except Exception:  # not installed or broken: look for OpenBLAS ourselves
            libs = []
        if not libs:
            libs = _openblas_from_maps()
            source = "/proc/self/maps" if libs else None
        _blas_libs, _blas_source = libs, source
    return _blas_libs


def _blas_threads() -> int | None:
    """The BLAS thread count (the largest where several BLAS are loaded: SciPy's beside NumPy's, say)."""
    libs = blas_libraries()
    if not libs:
        return None
    return libs[0].get_num_threads() if len(libs) == 1 else max(lib.get_num_threads() for lib in libs)


def _each_blas_threads() -> tuple | None:
    """Each loaded BLAS's count, when they differ (None when there is one BLAS or they agree)."""
    libs = blas_libraries()
    if len(libs) < 2:
        return None
    counts = tuple(lib.get_num_threads() for lib in libs)
    return counts if len(set(counts)) > 1 else None


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
_saved = None  # BLAS threads before the outermost scope: the ceiling
_saved_each = None  # each BLAS's count then, where several are loaded with different counts
_current = None  # BLAS threads set by the policy now (1 in the split mode)
_split = False  # the split mode of the open scope
_engaged = False  # the open scope's splits are engaged (BLAS held at one thread; workers.split_parts)
_engaged_last = False  # the last scope engaged its splits: the next starts engaged
_mode = None  # the mode of the open scope
_history = LoadHistory()  # the neighbours' load, window by window
_cores = None  # usable_cores() when last looked at: the cap
_cpus = None  # CPUs of the affinity mask (what the load is measured over)
_cpu_ids = None  # their numbers, or None when they are all the machine's (the /proc/stat total line then)
_monitor = None
_decided = None  # the count the policy applied last (the threads granted: BLAS's, or the splits' in the split mode)
_advice = None  # the latest decision from the readings (where the next scope starts while they are fresh)
_owner = None  # the thread that opened the outermost scope: the one that applies decisions
_pending = None  # the monitor's decision, waiting for the owner's next tick()
_numba_saved = None  # numba's thread count before the scope changed it
_monitor_idle = False  # the monitor waits for a scope to open (only then does an opening scope wake it)


def _refresh_cpus() -> None:
    """Look at the affinity mask and the cgroup quota again (a changed mask makes the readings incomparable)."""
    global _cores, _cpus, _cpu_ids
    mask = affinity_cpus()
    count = len(mask) if mask else (os.cpu_count() or 1)
    ids = mask if mask and len(mask) != (os.cpu_count() or 0) else None
    cores = usable_cores(count)
    with _lock:
        if ids != _cpu_ids:
            _history.clear()
        _cores, _cpus, _cpu_ids = cores, count, ids


def _sample() -> Sample | None:
    got = take_sample(_cpu_ids)
    return None if got is None else got[0]


def _target(now: float, current: int) -> int:
    """decide() for this process, never above the count found when the scope opened: a limit the user set in code
    (threadpoolctl's ``threadpool_limits(1)`` around ``fit``) is a ceiling the policy only lowers."""
    n = decide(_history, now, _cores or 1, current, _cpus)
    return min(n, _saved) if _saved else n


def _apply(n: int) -> None:
    """Grant ``n`` threads: to BLAS, or in the split mode to Ember's splits (BLAS at one), and to numba's pool if
    started; call only from the scope's owner thread."""
    global _current, _decided, _numba_saved
    split = _split and n >= 2
    engaged = split and _engaged
    blas = 1 if engaged else n
    if blas != _current:
        _set_blas_threads(blas)
        _current = blas
    _decided = n
    engage = _engage_splits if split and not engaged else None  # (the scope's first own split engages them)
    workers.set_split_parts(n if split else 1, blas_at_one=engaged, engage=engage)
    old = _numba_threads(n)
    if _numba_saved is None:
        _numba_saved = old


def _engage_splits() -> None:
    """The scope's first op that splits its own work (workers.split_parts) engages the splits: BLAS is held at one
    thread from here to the scope's end, and the dense products and updates split too (the module doc)."""
    global _engaged, _current
    with _lock:
        _engaged = True
        if _depth > 0 and _current not in (None, 1):
            _set_blas_threads(1)
            _current = 1


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
    global _pending, _monitor_idle, _advice
    while True:
        with _lock:
            while _depth == 0 or _mode != "auto":
                _monitor_idle = True  # the next scope to open wakes it
                _wake.wait()
            _monitor_idle = False
            _wake.wait(WINDOW_S)  # releases the lock while waiting; nobody wakes it early (no thread switches)
            if _depth == 0 or _mode != "auto":
                continue
        try:  # the reads run outside the lock: a scope opening meanwhile does not wait for them
            _refresh_cpus()
            sample = _sample()
        except Exception:
            sample = None
        if sample is None:
            continue
        with _lock:
            if _depth == 0 or _mode != "auto" or _current is None:
                continue
            _history.add(sample)
            n = _advice = _target(sample.wall, _decided or _current)
            # numba's pool started inside the scope, after the count was lowered: it gets the count too
            late_pool = _numba_saved is None and n < (_saved or n) and _numba_pool_started()
            _pending = n if n != (_decided or _current) or late_pool else None


def _start_monitor():
    global _monitor
    if _monitor is None:
        _monitor = threading.Thread(target=_monitor_loop, name="ember-blas-threads", daemon=True)
        _monitor.start()


def _decide_at_entry() -> int:
    """The thread count for a scope that opens now (called with the lock held, ``_saved`` known)."""
    global _advice
    now = time.monotonic()
    last = _history.last
    if last is not None and now - last.wall < WINDOW_S / 2:  # nothing new to read: the last advice stands
        if _advice is not None and _history.fresh(now):
            return min(_advice, _saved)
    else:  # at most a few /proc reads a second
        if _cores is None or not _history.fresh(now):  # (the monitor looks at them while it runs)
            _refresh_cpus()
        sample = _sample()
        if sample is not None:
            _history.add(sample)
            now = sample.wall
    # fresh readings: go on from the last advice; otherwise start from the full count
    start = _advice if _advice is not None and _history.fresh(now) else _saved
    _advice = _target(now, min(start, _saved))
    return _advice


class scope:  # noqa: N801  (used as a context manager, like a function)
    """``with threads.scope():`` — the policy holds inside (nested scopes share the outermost one's state)."""

    __slots__ = ("_active",)

    def __enter__(self):
        global _depth, _saved, _saved_each, _current, _mode, _owner, _pending, _numba_saved, _split, _decided
        global _engaged
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
            _owner, _pending, _numba_saved, _decided = threading.get_ident(), None, None, None
            _split = split_mode()
            _engaged = _split and _engaged_last
            workers.asked = False
            try:
                _saved, _saved_each = _blas_threads(), _each_blas_threads()
                _current, _mode = _saved, mode
                if _saved is None:  # no BLAS we can drive
                    return self
                _apply(mode if isinstance(mode, int) else _decide_at_entry())
                if mode == "auto":
                    _start_monitor()
                    if _monitor_idle:
                        _wake.notify_all()
            except Exception:  # a policy must never break training: leave the threads as they are
                _mode = "off"
        return self

    def __exit__(self, *exc):
        global _depth, _current, _mode, _owner, _pending, _numba_saved, _split, _engaged, _engaged_last
        if not self._active:
            return False
        with _lock:
            _depth -= 1
            if _depth == 0:
                try:
                    if _saved_each is not None and _decided is not None:  # put each back as it was
                        for lib, count in zip(blas_libraries(), _saved_each):
                            lib.set_num_threads(count)
                    elif _saved is not None and _current != _saved:
                        _set_blas_threads(_saved)
                    if _numba_saved is not None:
                        _numba_threads(_numba_saved)
                except Exception:
                    pass
                workers.set_split_parts(1)
                if _split and _decided is not None and _decided >= 2:  # (a scope that could split says whether it did)
                    _engaged_last = workers.asked
                _current, _mode, _owner, _pending, _numba_saved = None, None, None, None, None
                _split = _engaged = False
        return False


def _after_fork_in_child() -> None:
    """A forked child has no monitor thread, may have copied the lock held, and counts its own CPU time from zero
    (the readings are the parent's): start clean."""
    global _lock, _wake, _depth, _monitor, _owner, _pending, _current, _mode, _saved, _numba_saved, _monitor_idle
    global _history, _decided, _advice, _split, _engaged, _engaged_last
    _lock = threading.RLock()
    _split = _engaged = _engaged_last = False
    _wake = threading.Condition(_lock)
    _depth = 0
    _monitor = _owner = _pending = _current = _mode = _saved = _numba_saved = _decided = _advice = None
    _history = LoadHistory()
    _monitor_idle = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def scoped(function):
    """Decorator: run ``function`` (a ``fit``, ``evaluate``, ``predict`` or ``*_on_batch``) inside :func:`scope`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with scope():
            return function(*args, **kwargs)

    return wrapper


def last_decision() -> int | None:
    """The BLAS thread count the policy chose last (None before its first decision)."""
    return _decided


def describe() -> dict:
    """The policy's state for ``ember doctor``: mode and why, CPUs, quota and the cap, the BLAS found and its
    threads now."""
    mode, why = policy()
    libs = blas_libraries()
    mask = affinity_cpus()
    quota = cgroup_cpu_limit()
    cpus = len(mask) if mask else (os.cpu_count() or 1)
    return {
        "mode": mode,
        "why": why,
        "cores": usable_cores(cpus, quota),
        "cpus": cpus,
        "cpu_quota": quota,
        "blas_found_by": _blas_source,
        "blas_threads": libs[0].get_num_threads() if libs else None,
        "proc_stat": _read("/proc/stat") is not None,
        "numba_pool_started": _numba_pool_started(),
        "split": split_mode(),
    }


def _reset_for_tests() -> None:
    """Forget the measurements and the code setting (tests only; never inside an open scope)."""
    global _set_by_code, _split_by_code, _blas_libs, _blas_source, _decided, _advice, _cores, _cpus, _cpu_ids
    global _engaged_last
    _set_by_code, _split_by_code, _decided, _advice, _cores, _cpus, _cpu_ids = None, None, None, None, None, None, None
    _engaged_last = False
    _history.clear()
    _blas_libs, _blas_source = None, None
