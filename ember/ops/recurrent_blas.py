"""NumPy's own OpenBLAS ``cblas_?gemm``, callable from numba kernels: the recurrences' whole-sequence loops.

Why. A recurrence does one small matrix product per time step (an LSTM of 128 units at batch 32: h (32, 128) @
recurrent_kernel (128, 512)) and some gate arithmetic. Driven from Python, every step pays a NumPy call and a
numba dispatch (several microseconds, on 40-60 us of work), and the batch's rows, which never mix in a
recurrence, cannot be spread over cores. With the product callable from inside a kernel, the whole time loop runs
in one kernel call (``recurrent_kernels.lstm_forward_rows`` / ``lstm_backward_rows``), each product on the BLAS
threads the thread policy set; when the policy grants several threads (``workers.split_parts()``, BLAS then at
one) parts of the batch's rows run at the same time on several cores with no synchronisation between them
(``recurrent._run_split`` on :mod:`ember.backend.workers`).

How. The kernels name fixed symbols (``ember_cblas_sgemm64``, ``ember_cblas_dgemm64``) that :func:`bind` maps,
with llvmlite's ``add_symbol``, to the functions of the OpenBLAS NumPy loaded (found by path in
``/proc/self/maps``). Fixed names keep numba's on-disk cache valid whatever library a process finds. Only an
ILP64 interface (``scipy_cblas_sgemm64_`` in NumPy 2's wheels, ``cblas_sgemm64_`` in NumPy 1's) is bound, since
the kernels pass 64-bit integers. Anything else (another BLAS, no /proc, no numba): :func:`bind` returns False
and the ops keep their per-step loop, which computes the same numbers.

The products are the ones ``numpy.matmul`` makes (same library, same operands and leading dimensions), so a
kernel's loop gives NumPy's bits; OpenBLAS computes each row of a product the same way whatever the number of
rows, so splitting the batch among threads changes no bit either (both checked by tests). One exception, which
``recurrent.PRODUCT_ROWS`` / ``SMALL_PRODUCT`` handle: OpenBLAS multiplies small products (up to ~1e6 multiply-adds)
another way, unpacked, whose rounding can differ; the per-step products are made in fixed 8-row calls and the
large products split only when every part stays large.
"""

from __future__ import annotations

import ctypes
import os
import threading

from ..backend import jit

__all__ = ["bind", "blas_threads"]

# (gemm symbol, get_num_threads symbol) per naming scheme, ILP64 only
_SCHEMES = (
    ("scipy_cblas_{}gemm64_", "scipy_openblas_get_num_threads64_"),
    ("cblas_{}gemm64_", "openblas_get_num_threads64_"),
)

_lock = threading.Lock()
_state = None  # None: not tried; False: unavailable; else a dict (see _find)


def _openblas_paths() -> list:
    """OpenBLAS libraries loaded in this process, NumPy's own (``numpy.libs``) first."""
    try:
        with open("/proc/self/maps") as f:
            text = f.read()
    except OSError:
        return []
    paths = []
    for line in text.splitlines():
        parts = line.split(maxsplit=5)
        path = parts[5] if len(parts) == 6 else ""
        if "openblas" in os.path.basename(path).lower() and ".so" in path and path not in paths:
            paths.append(path)
    import numpy

    own = os.path.dirname(os.path.dirname(numpy.__file__))
    return sorted(paths, key=lambda p: not p.startswith(os.path.join(own, "numpy")))


def _find():
    """The first loaded OpenBLAS with an ILP64 cblas interface: {'sgemm', 'dgemm'} addresses and 'get'."""
    import numpy  # noqa: F401  (loads the BLAS)

    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0))
        except OSError:
            continue
        for gemm, get in _SCHEMES:
            try:
                found = {
                    "sgemm": ctypes.cast(getattr(lib, gemm.format("s")), ctypes.c_void_p).value,
                    "dgemm": ctypes.cast(getattr(lib, gemm.format("d")), ctypes.c_void_p).value,
                }
                getter = getattr(lib, get)
            except AttributeError:
                continue
            getter.restype = ctypes.c_int
            found["get"] = getter
            return found
    return None


def bind() -> bool:
    """Register the BLAS symbols the sequence kernels call; False (and nothing registered) when there are none."""
    global _state
    if _state is None:
        if not jit.available():  # numba off for now (EMBER_JIT, set_enabled): decide when it is next on
            return False
        with _lock:
            if _state is None:
                state = False
                try:
                    found = _find()
                except Exception:  # an unreadable library must not break training: keep the step loop
                    found = None
                if found is not None:
                    import llvmlite.binding as llvm

                    llvm.add_symbol("ember_cblas_sgemm64", found["sgemm"])
                    llvm.add_symbol("ember_cblas_dgemm64", found["dgemm"])
                    state = found
                _state = state
    return bool(_state) and jit.enabled()


def blas_threads() -> int:
    """The bound OpenBLAS's thread count for the calling thread (what Ember's thread policy set): the cores the
    sequence kernels may use; 1 when nothing is bound."""
    if not bind():
        return 1
    return max(1, int(_state["get"]()))


def external_functions():
    """numba ExternalFunction objects for the bound gemm symbols: (sgemm, dgemm)."""
    from numba import types

    i64, i32 = types.int64, types.int32
    args = (i32, i32, i32, i64, i64, i64)  # order, transa, transb, m, n, k

    def gemm(name, real):
        sig = types.void(*args, real, types.voidptr, i64, types.voidptr, i64, real, types.voidptr, i64)
        return types.ExternalFunction(name, sig)

    return gemm("ember_cblas_sgemm64", types.float32), gemm("ember_cblas_dgemm64", types.float64)
