"""Where one Ember training step spends its time, per workload: cProfile's top entries and a coarse breakdown.

Run from the repository root::

    python benchmarks/profile_step.py [--workloads mnist_mlp,...] [--steps 30] [--top 15]

For each workload the model is built and compiled as in ``benchmarks/run.py``, warmed up with one ``fit`` chunk,
then ``--steps`` batches are trained with ``model.fit`` under cProfile. cProfile charges a NumPy call (matmul,
ufuncs, copies) to the Python function that made it, so a function's *own* time (tottime) in ``ember/ops`` is
mostly array work, while own time in the engine, layers, models, trainer and optimizers is mostly interpreter
overhead (plus the optimizers' array updates). The breakdown groups own time by package, and ``blas floor``
times the step's matrix products alone in NumPy (the same shapes, forward and backward): no engine can do the
step faster than that floor on this BLAS.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.workloads import WORKLOADS  # noqa: E402

GROUPS = (
    ("ops", os.sep + os.path.join("ember", "ops") + os.sep),
    ("engine", os.sep + os.path.join("ember", "engine") + os.sep),
    ("optimizers", os.sep + os.path.join("ember", "optimizers") + os.sep),
    ("layers", os.sep + os.path.join("ember", "layers") + os.sep),
    ("models", os.sep + os.path.join("ember", "models") + os.sep),
    ("training", os.sep + os.path.join("ember", "training") + os.sep),
    ("compile", os.sep + os.path.join("ember", "compile") + os.sep),
    ("losses/metrics", os.sep + os.path.join("ember", "losses") + os.sep),
    ("losses/metrics", os.sep + os.path.join("ember", "metrics") + os.sep),
    ("other ember", os.sep + "ember" + os.sep),
)


def _group(filename: str) -> str:
    if filename.startswith("~") or filename == "":
        return "numpy/builtins"
    for name, marker in GROUPS:
        if marker in filename:
            return name
    return "numpy/builtins" if "numpy" in filename else "other python"


def _blas_floor(products, steps=20) -> float:
    """Seconds per step for the matrix products ``[(m, k, n), ...]`` alone (a (m, k) @ (k, n) each)."""
    rng = np.random.default_rng(0)
    mats = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)) for m, k, n in products]
    for a, b in mats:
        a @ b
    start = time.perf_counter()
    for _ in range(steps):
        for a, b in mats:
            a @ b
    return (time.perf_counter() - start) / steps


def _layer(m, k, n):
    """The three products of ``x (m, k) @ W (k, n)`` in a training step: forward, input and weight gradients."""
    return [(m, k, n), (m, n, k), (k, m, n)]


_LSTM_STEP = [(32, 128, 512), (32, 512, 128)]  # h @ recurrent_kernel forward, dz @ recurrent_kernel.T backward
MATMUL_SHAPES = {
    # a convolution counted as its im2col product (its input gradient is the same work in 9 pieces)
    "mnist_mlp": _layer(128, 784, 512) + _layer(128, 512, 10),
    "mnist_cnn": [(128 * 26 * 26, 9, 32), (9, 128 * 26 * 26, 32)]  # first conv: no input gradient
    + _layer(128 * 24 * 24, 288, 64)
    + _layer(128, 9216, 128)
    + _layer(128, 128, 10),
    # LSTM: the input projection of all 80 steps in one product (and its two gradients), 80 recurrent products
    # each way, the recurrent kernel's gradient in one product; the embedding has no product
    "imdb_lstm": _layer(32 * 80, 128, 512) + _LSTM_STEP * 80 + [(128, 32 * 80, 512)] + _layer(32, 128, 1),
    "tiny_mlp": _layer(8, 4, 8) + _layer(8, 8, 6) + _layer(8, 6, 1),
}


def profile(name: str, steps: int, top: int) -> None:
    import ember

    workload = WORKLOADS[name]
    x, y = workload.make_data(workload.BATCH * max(steps, workload.CHUNK_BATCHES))
    model = workload.build_keras_like(ember)
    model.set_weights(workload.initial_weights())
    n = workload.BATCH * steps
    model.fit(x[:n], y[:n], batch_size=workload.BATCH, epochs=1, shuffle=False, verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(x[:n], y[:n], batch_size=workload.BATCH, epochs=1, shuffle=False, verbose=0)
    wall = (time.perf_counter() - start) / steps
    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(x[:n], y[:n], batch_size=workload.BATCH, epochs=1, shuffle=False, verbose=0)
    profiler.disable()
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = {}
    calls = 0
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():
        groups[_group(filename)] = groups.get(_group(filename), 0.0) + tottime / steps
        calls += ncalls
    total = sum(groups.values())
    floor = _blas_floor(MATMUL_SHAPES[name])
    print(f"\n=== {name}: batch {workload.BATCH}, {steps} steps")
    print(
        f"wall {wall * 1e3:.2f} ms/step unprofiled; profiled {total * 1e3:.2f} ms/step; "
        f"{calls / steps:.0f} Python-level calls/step; blas floor {floor * 1e3:.2f} ms/step "
        f"({floor / wall:.0%} of wall)"
    )
    print("own time by package (profiled ms/step, share):")
    for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {group:16s} {seconds * 1e3:8.3f}  {seconds / total:6.1%}")
    print(f"top {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    for name in args.workloads.split(","):
        profile(name.strip(), args.steps, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
