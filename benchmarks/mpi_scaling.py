"""Data-parallel scaling of W1 (mnist_mlp) and W2 (mnist_cnn) with 1 and 2 MPI processes.

    .venv/bin/python benchmarks/mpi_scaling.py [--workloads mnist_mlp,mnist_cnn] [--procs 1,2] [--steps 12]

The driver starts ``mpiexec -n P`` on this file per workload and process count; each process has one
BLAS thread and the workload's batch (128) as its per-process batch (weak scaling: P processes take a
step on P*128 samples). Per run it prints the median step time, the global samples/s, the scaling
efficiency (samples/s at P over P times samples/s at 1), and the gradient all-reduce: bytes per step and
seconds per all-reduce (``ember.distribution.collectives.stats``, rank 0). Steps are timed one by one
after two warm-up steps (the compiled step traces there); the median damps the noise of a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def worker(name: str, steps: int) -> None:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import ember
    from benchmarks.workloads import WORKLOADS
    from ember import distribution
    from ember.distribution import collectives

    distribution.initialize()
    distribution.set_distribution(distribution.DataParallel())
    workload = WORKLOADS[name]
    rank, size = distribution.rank(), distribution.size()
    batch = workload.BATCH
    x, y = workload.make_data(batch * size * (steps + 2))
    model = workload.build_keras_like(ember)

    class Timer(ember.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times, self.start = [], None

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = Timer()
    before = dict(collectives.stats)
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    calls = collectives.stats["calls"] - before["calls"]
    sent = collectives.stats["bytes"] - before["bytes"]
    seconds = collectives.stats["seconds"] - before["seconds"]
    step = float(np.median(timer.times[2:]))
    # the all-reduce alone: the same bytes, ranks lined up by a barrier first (in fit it also waits for the
    # slower rank to finish its backward, so its time there includes the ranks' skew)
    buffer = np.ones(int(sent / calls) // 4 if calls else 1, dtype=np.float32)
    alone = []
    for _ in range(10):
        distribution._mpi.barrier()
        start = time.perf_counter()
        collectives.average_in_place_([buffer])
        alone.append(time.perf_counter() - start)
    if rank == 0:
        result = {
            "workload": name,
            "processes": size,
            "step_s": step,
            "samples_per_s": batch * size / step,
            "allreduce_bytes_per_step": sent / calls if calls else 0,
            "allreduce_s": seconds / calls if calls else 0.0,
            "allreduce_alone_s": float(np.median(alone)),
            "params": int(sum(w.numpy().size for w in model.trainable_weights)),
        }
        print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mnist_mlp,mnist_cnn")
    parser.add_argument("--procs", default="1,2")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    if mpiexec is None:
        sys.exit("mpi_scaling: needs mpiexec (pip install mpi4py mpich)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "OMPI_"))}
    env.update(ONE_THREAD, PYTHONPATH=str(ROOT))
    results = {}
    for name in args.workloads.split(","):
        for procs in [int(p) for p in args.procs.split(",")]:
            command = [
                mpiexec,
                "-n",
                str(procs),
                sys.executable,
                __file__,
                "--worker",
                name,
                "--steps",
                str(args.steps),
            ]
            run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
            lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
            if run.returncode != 0 or not lines:
                sys.exit(f"mpi_scaling: {name} with {procs} processes failed:\n{run.stderr[-2000:]}")
            r = results[(name, procs)] = json.loads(lines[0][7:])
            base = results.get((name, 1))
            efficiency = r["samples_per_s"] / (procs * base["samples_per_s"]) if base else float("nan")
            print(
                f"{name:10s} P={procs}  step {r['step_s'] * 1e3:7.1f} ms  {r['samples_per_s']:8.0f} samples/s  "
                f"efficiency {efficiency:5.2f}  all-reduce {r['allreduce_bytes_per_step'] / 1e6:6.3f} MB/step "
                f"in {r['allreduce_s'] * 1e3:6.2f} ms in fit, {r['allreduce_alone_s'] * 1e3:6.2f} ms alone "
                f"({r['params']} params)",
                flush=True,
            )


if __name__ == "__main__":
    main()
