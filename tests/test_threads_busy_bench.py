"""benchmarks/run.py --busy: the CPU-bound neighbour starts, is measured, and is gone on every way out."""

import os
import subprocess
import sys
import time

import pytest

from benchmarks import run

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc to watch the neighbour")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_the_neighbour_spins_and_is_measured_and_stopped():
    proc = run.start_neighbour()
    try:
        time.sleep(0.4)
        assert _alive(proc.pid)
    finally:
        cpus = run.stop_neighbour(proc)
    assert not _alive(proc.pid)
    # on a shared machine it may get less than a whole CPU, never more
    assert cpus is not None and 0.0 < cpus <= 1.05, cpus


def test_the_neighbour_stops_by_itself_when_run_py_dies_without_cleaning_up():
    """SIGKILL (no finally runs): the orphaned neighbour sees its parent change and exits."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from benchmarks import run\n"
        "p = run.start_neighbour(); print(p.pid, flush=True)\n"
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, run.ROOT], capture_output=True, text=True, timeout=60)
    pid = int(out.stdout.split()[0])
    assert _wait_gone(pid), f"the neighbour {pid} still runs after its parent was killed"


def test_a_pair_that_times_out_or_fails_still_stops_the_neighbour(monkeypatch):
    started = []
    real_start = run.start_neighbour

    def start():
        started.append(real_start())
        return started[-1]

    monkeypatch.setattr(run, "start_neighbour", start)

    def times_out(*a, **k):
        raise subprocess.TimeoutExpired("child", 1)

    monkeypatch.setattr(run.subprocess, "run", times_out)
    result = run._run_pair("tiny_mlp", "ember", 1, "inherit", None, 1, busy=True)
    assert result["error"] == "timed out after 1s" and not _alive(started[-1].pid)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run._run_pair("tiny_mlp", "ember", 1, "inherit", None, 1, busy=True)
    assert len(started) == 2 and not _alive(started[-1].pid)


def test_sigterm_unwinds_so_the_neighbour_is_stopped():
    """run.py --busy turns SIGTERM into SystemExit: the pair's finally kills the neighbour before the exit."""
    code = (
        "import sys, time, signal; sys.path.insert(0, sys.argv[1])\n"
        "from benchmarks import run\n"
        "signal.signal(signal.SIGTERM, run._exit_on_sigterm)\n"
        "def slow(*a, **k):\n"
        "    print(run._last_neighbour.pid, flush=True); time.sleep(30)\n"
        "real = run.start_neighbour\n"
        "def start():\n"
        "    run._last_neighbour = real(); return run._last_neighbour\n"
        "run.start_neighbour = start\n"
        "run.subprocess.run = slow\n"
        "run._run_pair('tiny_mlp', 'ember', 1, 'inherit', None, 60, busy=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, run.ROOT], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        assert _alive(pid)
        proc.terminate()
        assert proc.wait(timeout=30) == 128 + 15
        assert not _alive(pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_busy_table_puts_quiet_and_busy_side_by_side():
    quiet = [
        dict(workload="w", framework="ember", train_sps=200.0, infer_sps=1000.0, blas_threads_chosen=2),
        dict(workload="w", framework="torch", train_sps=100.0, infer_sps=1000.0),
    ]
    busy = [
        dict(workload="w", framework="ember", train_sps=150.0, infer_sps=500.0, blas_threads_chosen=1,
             neighbour_cpus=0.93),
        dict(workload="w", framework="torch", train_sps=100.0, infer_sps=250.0, neighbour_cpus=0.9),
    ]  # fmt: skip
    table = run.format_busy_table(quiet, busy)
    # E/PT train: quiet 2.00, busy 1.50, busy/quiet 0.75; infer: 1.00, 2.00, 2.00
    assert "| w | E/PT | 2.00 | 1.50 | 0.75 | 1.00 | 2.00 | 2.00 |" in table
    # Ember's own: train 0.75, infer 0.50, the neighbour's CPU, the BLAS threads quiet -> busy
    assert "| w | ember | 0.75 | 0.50 | 0.93 | 2 -> 1 |" in table
    assert "| w | torch | 1.00 | 0.25 | 0.90 | - |" in table
