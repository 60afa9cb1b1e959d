"""The OpenBLAS core-type probe: which ``OPENBLAS_CORETYPE`` makes float32 matmul fastest here.

OpenBLAS picks its kernels for the CPU it detects at load time. On some CPUs
(new AVX-512 parts, some virtual machines) it picks an older core type and
matmul runs at a fraction of the speed it could. The right value is measured,
not guessed: each candidate core type runs the same float32 matmul in a fresh
Python subprocess (the variable is read only when OpenBLAS loads) and the
fastest wins.
"""

from __future__ import annotations

from . import probes

__all__ = ["candidates", "measure", "probe"]

_CHILD = """
import os, sys, time
import numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b
best = float("inf")
for _ in range(reps):
    t = time.perf_counter()
    a @ b
    best = min(best, time.perf_counter() - t)
core = ""
try:
    import threadpoolctl
    pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
    core = pools[0].get("architecture") or "" if pools else ""
except Exception:
    pass
print(2.0 * n ** 3 / best / 1e9, core)
"""


def candidates(flags: set[str], vendor: str = "") -> list[str]:
    """OpenBLAS core types worth trying on a CPU with these /proc/cpuinfo flags."""
    out = []
    if "avx2" in flags:
        out.append("Haswell")
        if "AMD" in vendor.upper():
            out.append("Zen")
    if "avx512f" in flags:
        out.append("SkylakeX")
        if "avx512_bf16" in flags:
            out.append("Cooperlake")
        if "amx_tile" in flags:
            out.append("SapphireRapids")
    return out


def measure(coretype: str | None, n: int = 1024, reps: int = 5) -> tuple[float, str] | None:
    """(GFLOP/s, the core name OpenBLAS reports) of an n x n float32 matmul with ``OPENBLAS_CORETYPE=coretype``.

    ``coretype=None`` removes the variable (OpenBLAS detects the CPU itself). None when the
    subprocess fails.
    """
    env = probes.environ()
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    result = probes.run([probes.python_executable(), "-c", _CHILD, str(n), str(reps)], timeout=60, env=env)
    if result is None or result[0] != 0:
        return None
    parts = result[1].split()
    try:
        return float(parts[0]), (parts[1] if len(parts) > 1 else "")
    except (IndexError, ValueError):
        return None


def probe(flags: set[str], vendor: str = "", current: str | None = None, margin: float = 1.15, rounds: int = 2) -> dict:
    """Measure the current setting, OpenBLAS's own choice, and each candidate; recommend the fastest.

    Args:
        flags: the CPU's instruction-set flags.
        vendor: the CPU vendor string (``GenuineIntel``, ``AuthenticAMD``).
        current: ``OPENBLAS_CORETYPE`` as set now (None when unset).
        margin: how much faster (ratio) a setting must be than the current one to be recommended,
            so that timing noise does not produce advice.
        rounds: each setting is measured this many times, interleaved, and its best kept.

    Returns:
        ``{"results": {label: {"gflops": .., "core": ..}}, "current": label, "best": coretype or None,
        "speedup": ratio of best to current, "recommend": coretype or None}``.
    """
    tried = [None] + [c for c in candidates(flags, vendor) if c != current]
    if current is not None:
        tried.insert(0, current)
    results = {}
    for _ in range(rounds):
        for coretype in tried:
            got = measure(coretype)
            label = coretype or "auto"
            if got is not None and got[0] > results.get(label, {}).get("gflops", 0.0):
                results[label] = {"gflops": round(got[0], 1), "core": got[1]}
    now = current or "auto"
    out = {"results": results, "current": now, "best": None, "speedup": None, "recommend": None}
    if now not in results:
        return out
    # settings that load the same kernels (same core name) are one setting: take their best time
    by_core = {}
    for label, r in results.items():
        key = r["core"] or label
        by_core[key] = max(by_core.get(key, 0.0), r["gflops"])
    now_core = results[now]["core"] or now
    best_core = max(by_core, key=by_core.get)
    # name the best kernels by the setting spelled like them when one was tried, else the first that loads them
    same = [label for label, r in results.items() if (r["core"] or label) == best_core]
    best = best_core if best_core in same else same[0]
    out["best"] = best
    out["speedup"] = round(by_core[best_core] / max(by_core[now_core], 1e-9), 2)
    if best_core != now_core and out["speedup"] >= margin:
        out["recommend"] = best if best != "auto" else ""
    return out
