"""The facts ``ember doctor`` reads from the machine, one small function each.

Every function here answers one question and never raises: a missing program or
package gives None. Tests replace one of them (``monkeypatch.setattr``) to fake a
missing piece; the checks only ever call them through this module.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys


def which(program: str) -> str | None:
    """Full path of ``program`` on PATH, or None."""
    return shutil.which(program)


def run(argv: list[str], timeout: float = 10.0, env: dict | None = None) -> tuple[int, str] | None:
    """(exit status, stdout + stderr) of a command, or None when it cannot be started or times out."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode, (done.stdout + done.stderr).strip()


def module(name: str):
    """The imported module ``name``, or None when it is not installed or fails to import."""
    try:
        return importlib.import_module(name)
    except Exception:  # an installed but broken package counts as missing
        return None


def import_error(name: str) -> str | None:
    """Why ``import name`` fails (``"ImportError: ..."``), or None when it imports (or is not installed at all)."""
    if not installed(name):
        return None
    try:
        importlib.import_module(name)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def ember_coretype_decision() -> dict:
    """What ``import ember`` decided about OPENBLAS_CORETYPE: ``{"set": value or None, "why": text}``."""
    from ember.backend import blas_coretype

    return dict(blas_coretype.DECISION)


def thread_policy() -> dict | None:
    """The BLAS thread policy's state (ember/backend/threads.py ``describe()``), or None if it cannot be read."""
    try:
        from ember.backend import threads

        return threads.describe()
    except Exception:
        return None


def neighbours_load(seconds: float = 0.3) -> float | None:
    """Cores other processes keep busy, measured over ``seconds`` (None without /proc/stat)."""
    import time

    from ember.backend import threads

    first = threads.take_sample()
    if first is None:
        return None
    time.sleep(seconds)
    second = threads.take_sample()
    return None if second is None else threads.others_between(first[0], second[0])


def numba_cache() -> tuple[str, int]:
    """(where numba keeps Ember's compiled kernels, how many kernel index files are there now).

    NUMBA_CACHE_DIR when set, else the ``__pycache__`` folders beside ember's sources (numba falls back to its
    user cache directory where those are read-only).
    """
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        root, where = configured, configured
    else:
        import ember

        root = os.path.dirname(ember.__file__)
        where = os.path.join(root, "**", "__pycache__")
    count = 0
    for _, _, files in os.walk(root):
        count += sum(name.endswith(".nbi") for name in files)
    return where, count


def installed(name: str) -> bool:
    """Whether top-level package ``name`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def distribution_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (its pip name), or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpuinfo() -> str | None:
    """The text of /proc/cpuinfo, or None where there is none (macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def meminfo() -> dict | None:
    """/proc/meminfo as {field: kB}, or None."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key.strip()] = int(parts[0])
    return out


def cpu_count() -> int | None:
    return os.cpu_count()


def usable_cpus() -> int | None:
    """CPUs this process may run on (its affinity), where the OS says."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def blas_pools() -> list[dict] | None:
    """threadpoolctl's view of the loaded BLAS libraries, or None when threadpoolctl is missing."""
    tpc = module("threadpoolctl")
    if tpc is None:
        return None
    import numpy  # noqa: F401  (load NumPy's BLAS so threadpoolctl sees it)

    try:
        return [p for p in tpc.threadpool_info() if p.get("user_api") == "blas"]
    except Exception:
        return None


def numpy_blas_config() -> dict | None:
    """NumPy's build-time BLAS description (name, version, configuration), or None."""
    import numpy

    try:
        config = numpy.show_config(mode="dicts")
        return dict(config.get("Build Dependencies", {}).get("blas", {}))
    except Exception:
        return None


def environ() -> dict:
    return dict(os.environ)


def python_executable() -> str:
    return sys.executable


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def platform_system() -> str:
    import platform

    return platform.system()
