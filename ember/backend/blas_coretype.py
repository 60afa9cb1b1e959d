"""OpenBLAS's kernel set (its "core type"), and the one thing ``import ember`` may do about it.

OpenBLAS built with ``DYNAMIC_ARCH`` (the one inside NumPy's pip wheels) picks its kernels once, when NumPy
loads it, from the CPU it detects, or from ``OPENBLAS_CORETYPE`` when that is set. On CPUs it does not recognise
(new models, the generic CPU models of some virtual machines) it can fall back to its Haswell (AVX2) kernels on a
CPU with AVX-512, where its SkylakeX kernels run float32 matmul about 1.6-1.8x faster (``ember doctor`` measures
this per machine).

What ``import ember`` does (:func:`select_at_import`, called before Ember imports NumPy): it sets
``OPENBLAS_CORETYPE=SkylakeX`` in ``os.environ`` only when all of these hold, and otherwise changes nothing:

- NumPy is not imported yet (afterwards OpenBLAS has chosen, and only a new process can change it);
- ``OPENBLAS_CORETYPE`` is unset, and ``EMBER_OPENBLAS_CORETYPE`` is not ``0``/``off`` (the opt-out);
- NumPy's own wheel-bundled OpenBLAS is what will load (``numpy.libs/lib*openblas*``: a ``DYNAMIC_ARCH`` build that
  has the SkylakeX kernels; a distribution's or conda's BLAS is left alone);
- and /proc/cpuinfo lists every AVX-512 subset SkylakeX's kernels use (avx512f, cd, bw, dq, vl): never on a CPU
  without them, which would die on an illegal instruction.

Where OpenBLAS would pick SkylakeX by itself (this project's machine, most Intel AVX-512 servers), the setting
changes nothing; where it would pick an older set, it is the fix. On
CPUs with bf16 or AMX, OpenBLAS's newer sets (Cooperlake, SapphireRapids) add bfloat16 routines only: their
float32 and float64 products, the only ones NumPy calls, are SkylakeX's (on this project's AMX machine the
builds report ``SkylakeX`` whichever of the three is asked for), so nothing Ember runs is slowed.

The variable stays in ``os.environ``, so subprocesses started afterwards inherit it (they load the same OpenBLAS
on the same CPU). When NumPy was imported first, nothing is set and ``ember doctor`` measures the core types and
prints the line to add to the shell profile. :data:`DECISION` records what was decided and why, for the doctor.
"""

from __future__ import annotations

import importlib.util
import os
import sys

__all__ = ["DECISION", "REQUIRED_FLAGS", "cpu_flags", "decide", "select_at_import"]

TARGET = "SkylakeX"
REQUIRED_FLAGS = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")
OPT_OUT = "EMBER_OPENBLAS_CORETYPE"

DECISION: dict = {"set": None, "why": "not decided yet (ember.backend not imported)"}


def cpu_flags(cpuinfo_text: str | None) -> set[str] | None:
    """The first CPU's feature flags from /proc/cpuinfo's text (x86 ``flags``; ARM ``Features``), or None."""
    if not cpuinfo_text:
        return None
    for line in cpuinfo_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return set(value.split())
    return None


def _read_cpuinfo() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            # the first CPU's block is enough (the flags line comes in its first 30 lines)
            lines = []
            for line in f:
                lines.append(line)
                if line.startswith(("flags", "Features")) or not line.strip():
                    break
            return "".join(lines)
    except OSError:
        return None


def numpy_bundled_openblas() -> str | None:
    """Path of the OpenBLAS NumPy's pip wheel bundles (``numpy.libs/lib*openblas*``), found without importing NumPy."""
    try:
        spec = importlib.util.find_spec("numpy")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = list(spec.submodule_search_locations)[0]
    libs = os.path.join(os.path.dirname(package_dir), "numpy.libs")
    try:
        names = sorted(os.listdir(libs))
    except OSError:
        return None
    for name in names:
        if "openblas" in name.lower() and ".so" in name:
            return os.path.join(libs, name)
    return None


def decide(environ, numpy_loaded: bool, cpuinfo_text: str | None, bundled_openblas: str | None) -> tuple:
    """``(value to set or None, why)`` from the facts (pure: the tests fake every one of them)."""
    opt_out = environ.get(OPT_OUT, "").strip().lower()
    if opt_out in ("0", "off", "false", "no"):
        return None, f"{OPT_OUT}={environ[OPT_OUT]}: left to OpenBLAS"
    if environ.get("OPENBLAS_CORETYPE"):
        return None, f"OPENBLAS_CORETYPE={environ['OPENBLAS_CORETYPE']} was set by the user"
    if numpy_loaded:
        return None, "NumPy was imported before Ember, so OpenBLAS had already chosen its kernels"
    if bundled_openblas is None:
        return None, "NumPy does not bundle OpenBLAS here (a system or conda BLAS): left to it"
    flags = cpu_flags(cpuinfo_text)
    if flags is None:
        return None, "no /proc/cpuinfo flags to read: left to OpenBLAS"
    missing = [f for f in REQUIRED_FLAGS if f not in flags]
    if missing:
        return None, f"the CPU lacks {', '.join(missing)}: OpenBLAS's own choice is kept"
    return TARGET, f"set OPENBLAS_CORETYPE={TARGET} at import, before NumPy loaded (AVX-512 CPU, NumPy's own OpenBLAS)"


def select_at_import() -> str | None:
    """Set ``OPENBLAS_CORETYPE`` when :func:`decide` says so (see the module doc); returns what was set."""
    try:
        value, why = decide(
            os.environ,
            "numpy" in sys.modules,
            _read_cpuinfo() if sys.platform.startswith("linux") else None,
            numpy_bundled_openblas(),
        )
    except Exception as exc:  # never let this stop `import ember`
        value, why = None, f"not decided: {type(exc).__name__}: {exc}"
    if value is not None:
        os.environ["OPENBLAS_CORETYPE"] = value
    DECISION.update(set=value, why=why)
    return value


# ember/backend/__init__.py imports this module first, before anything of Ember's imports NumPy
select_at_import()
