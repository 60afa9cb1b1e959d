"""Ember vs PyTorch 2.13 eager vs Keras 3 (torch backend): training and inference throughput and peak memory.

Run from the repository root::

    python benchmarks/run.py [--workloads mnist_mlp,mnist_cnn,...] [--frameworks ember,torch,keras] [--busy]
                             [--quick] [--reps N] [--threads unset|1|2] [--coretype SkylakeX] [--json out.json]

Every (workload, framework) pair runs in a fresh subprocess (so imports, thread pools and the memory high-water
mark of one never leak into another) on the same synthetic data and the same initial weights. The table gives
training and inference samples/s (median of the timed chunks after a warm-up chunk), the ratios Ember/PyTorch
and Ember/Keras (above 1 means Ember is faster), and the peak-memory growth in MiB. ``--busy`` times every pair twice,
alone and beside a CPU-bound neighbour process, and prints the quiet and busy ratios side by side. The workloads
are benchmarks/workloads/__init__.py's ``WORKLOADS`` (add one there). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

FRAMEWORKS = ("ember", "torch", "keras")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# the neighbour of --busy: one CPU-bound Python loop, no affinity, as a notebook or a data job beside training.
# It looks up at its parent every few million iterations (a few ms) and stops when the parent is gone, so even a
# run.py killed with SIGKILL leaves no spinning process behind.
NEIGHBOUR = (
    "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(200_000):\n        pass\n"
)


def all_workloads() -> tuple:
    """The registered workload names, in the registry's order (benchmarks/workloads/__init__.py's WORKLOADS)."""
    from benchmarks.workloads import WORKLOADS

    return tuple(WORKLOADS)


def _child(args) -> None:
    from benchmarks.harness import measure
    from benchmarks.workloads import WORKLOADS

    name, framework = args.child.split(":")
    torch_threads = None if args.torch_threads == "default" else int(args.torch_threads)
    result = measure(WORKLOADS[name], framework, args.reps, torch_threads)
    print("RESULT " + json.dumps(result))


def _child_env(threads: str, coretype: str | None) -> dict:
    env = dict(os.environ)
    if threads == "unset":
        for var in THREAD_VARS:
            env.pop(var, None)
    elif threads != "inherit":
        for var in THREAD_VARS:
            env[var] = threads
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def start_neighbour() -> subprocess.Popen:
    """A CPU-bound neighbour process (a pure-Python busy loop), started now; stop it with :func:`stop_neighbour`.

    Raises RuntimeError when it does not start or dies at once (the busy figures would be quiet ones)."""
    started = time.perf_counter()  # before the process exists: all the CPU time it uses falls after this
    proc = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    proc.started = started
    time.sleep(0.05)
    if proc.poll() is not None:
        raise RuntimeError(f"--busy: the neighbour process exited at once (exit code {proc.returncode})")
    return proc


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a live process has used, from /proc/<pid>/stat (None where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def stop_neighbour(proc: subprocess.Popen) -> float | None:
    """Kill the neighbour and wait for it; returns the CPUs it kept busy on average while it ran (None if unknown)."""
    used = _cpu_seconds(proc.pid)
    wall = time.perf_counter() - getattr(proc, "started", time.perf_counter())
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return used / wall if used is not None and wall > 0 else None


def _run_pair(workload, framework, reps, threads, coretype, timeout, busy=False) -> dict:
    """One (workload, framework) measurement in a fresh process; ``busy``: beside a CPU-bound neighbour."""
    # PyTorch runs with 2 threads (the setting) unless --threads names a count for everyone.
    torch_threads = "2" if threads in ("inherit",) else ("default" if threads == "unset" else threads)
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        f"{workload}:{framework}",
        "--reps",
        str(reps),
        "--torch-threads",
        torch_threads,
    ]
    load = _load()  # the shared machine's 1-minute load when the pair starts (the neighbour not yet counted)
    neighbour, neighbour_cpus = None, None
    start = time.perf_counter()
    try:  # the neighbour is killed on every way out: a result, an error, a timeout, Ctrl-C, SIGTERM (see main)
        if busy:
            neighbour = start_neighbour()
        proc = subprocess.run(
            cmd, env=_child_env(threads, coretype), capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return dict(workload=workload, framework=framework, busy=busy, error=f"timed out after {timeout}s")
    except RuntimeError as exc:  # the neighbour did not start
        return dict(workload=workload, framework=framework, busy=busy, error=str(exc))
    finally:
        if neighbour is not None:
            neighbour_cpus = stop_neighbour(neighbour)
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["wall_s"] = time.perf_counter() - start
            result["busy"] = busy
            result["load_at_start"] = load
            if busy:  # how much of a CPU the neighbour actually took: a busy figure is only as busy as this
                result["neighbour_cpus"] = neighbour_cpus
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    error = " | ".join(tail) or f"exit code {proc.returncode}"
    return dict(workload=workload, framework=framework, busy=busy, error=error)


def _ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def _fmt(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


def format_table(results: list[dict]) -> str:
    """The results as a Markdown table: one row per workload, samples/s, ratios and peak memory."""
    by_key = {(r["workload"], r["framework"]): r for r in results}
    workloads = list(dict.fromkeys(r["workload"] for r in results))
    header = (
        "| workload | train Ember | train PyTorch | train Keras | E/PT | E/K "
        "| infer Ember | infer PyTorch | infer Keras | E/PT | E/K | peak MiB E / PT / K |"
    )
    lines = [header, "|" + "---|" * 12]
    for name in workloads:
        row = {fw: by_key.get((name, fw), {}) for fw in FRAMEWORKS}
        train = {fw: row[fw].get("train_sps") for fw in FRAMEWORKS}
        infer = {fw: row[fw].get("infer_sps") for fw in FRAMEWORKS}
        mem = " / ".join(_fmt(row[fw].get("peak_mb")) for fw in FRAMEWORKS)
        lines.append(
            f"| {name} | {_fmt(train['ember'])} | {_fmt(train['torch'])} | {_fmt(train['keras'])} "
            f"| {_ratio(train['ember'], train['torch'])} | {_ratio(train['ember'], train['keras'])} "
            f"| {_fmt(infer['ember'])} | {_fmt(infer['torch'])} | {_fmt(infer['keras'])} "
            f"| {_ratio(infer['ember'], infer['torch'])} | {_ratio(infer['ember'], infer['keras'])} | {mem} |"
        )
    errors = [f"- {r['workload']}/{r['framework']}: {r['error']}" for r in results if "error" in r]
    return "\n".join(lines + ([""] + errors if errors else []))


def format_busy_table(quiet: list[dict], busy: list[dict]) -> str:
    """Quiet and busy Ember/PyTorch and Ember/Keras ratios side by side, with busy ÷ quiet (the target: >= 0.8)."""
    q = {(r["workload"], r["framework"]): r for r in quiet}
    b = {(r["workload"], r["framework"]): r for r in busy}
    workloads = list(dict.fromkeys(r["workload"] for r in quiet + busy))

    def ratio(table, name, key, other):
        e, o = table.get((name, "ember"), {}).get(key), table.get((name, other), {}).get(key)
        return e / o if e and o else None

    def cell(value):
        return "-" if value is None else f"{value:.2f}"

    header = "| workload | vs | train quiet | train busy | busy/quiet | infer quiet | infer busy | busy/quiet |"
    lines = [header, "|" + "---|" * 8]
    for name in workloads:
        for other, label in (("torch", "PT"), ("keras", "K")):
            cells = []
            for key in ("train_sps", "infer_sps"):
                rq, rb = ratio(q, name, key, other), ratio(b, name, key, other)
                cells += [cell(rq), cell(rb), cell(rb / rq if rq and rb else None)]
            if any(c != "-" for c in cells):
                lines.append(f"| {name} | E/{label} | " + " | ".join(cells) + " |")
    # each framework's own samples/s, busy ÷ quiet: how much the neighbour costs it; how much CPU the neighbour
    # really took (a busy figure is only as busy as that); Ember's BLAS thread count at the end, quiet -> busy
    lines += [
        "",
        "| workload | framework | train busy/quiet | infer busy/quiet | neighbour CPU | BLAS threads quiet -> busy |",
        "|---|---|---|---|---|---|",
    ]
    for name in workloads:
        for framework in FRAMEWORKS:
            rq, rb = q.get((name, framework), {}), b.get((name, framework), {})
            own = [rb.get(k) / rq.get(k) if rq.get(k) and rb.get(k) else None for k in ("train_sps", "infer_sps")]
            if any(v is not None for v in own):
                chosen = [r.get("blas_threads_chosen") for r in (rq, rb)]
                blas = "-" if chosen == [None, None] else " -> ".join("-" if c is None else str(c) for c in chosen)
                lines.append(
                    f"| {name} | {framework} | {cell(own[0])} | {cell(own[1])} | {cell(rb.get('neighbour_cpus'))} "
                    f"| {blas} |"
                )
    return "\n".join(lines)


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def machine_line(threads, coretype) -> str:
    load = _load()
    cpu = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load:.2f} at start, "
        f"BLAS threads {threads}, OPENBLAS_CORETYPE {coretype or os.environ.get('OPENBLAS_CORETYPE', 'auto')}"
    )


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=None, help="comma-separated subset (default: all registered)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated subset")
    parser.add_argument("--quick", action="store_true", help="3 timed chunks instead of --reps (a smoke run)")
    parser.add_argument("--reps", type=int, default=7, help="timed chunks per measurement (median reported)")
    parser.add_argument(
        "--threads",
        default="inherit",
        help="BLAS/OpenMP threads for every child: 'inherit' (the environment's; PyTorch set to 2), 'unset' "
        "(variables removed; PyTorch's default) or a count (variables and PyTorch set to it)",
    )
    parser.add_argument("--coretype", default=None, help="OPENBLAS_CORETYPE for the children, e.g. SkylakeX")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per (workload, framework) process")
    parser.add_argument("--json", default=None, help="also write all results (with the raw chunk times) here")
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="cuda: Ember (EMBER_DEVICE) and PyTorch run on the GPU (benchmarks/gpu_check.sh, docs/gpu.md)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="time each pair twice, alone and beside a CPU-bound neighbour process; print both ratios side by side",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", default="2", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.device == "cuda":  # the children inherit it: Ember's default device, the harness's torch device
        os.environ["EMBER_DEVICE"] = os.environ["EMBER_BENCH_DEVICE"] = "cuda"
    if args.quick:
        args.reps = 3
    if args.child:
        _child(args)
        return 0

    registered = all_workloads()
    workloads = [w.strip() for w in (args.workloads or ",".join(registered)).split(",") if w.strip()]
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for name in workloads:
        if name not in registered:
            parser.error(f"--workloads: expected names from {', '.join(registered)}, got {name!r}")
    for name in frameworks:
        if name not in FRAMEWORKS:
            parser.error(f"--frameworks: expected names from {', '.join(FRAMEWORKS)}, got {name!r}")
    if args.coretype and args.coretype.lower() == "skylakex":
        with open("/proc/cpuinfo") as f:
            if "avx512f" not in f.read():
                parser.error("--coretype SkylakeX: this CPU has no AVX-512 (avx512f not in /proc/cpuinfo)")

    if args.busy:  # a SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the neighbour's finally runs
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    machine = machine_line(args.threads, args.coretype)
    print(machine, flush=True)
    results = []
    from benchmarks.workloads import WORKLOADS

    for name in workloads:
        for framework in frameworks:
            if framework not in getattr(WORKLOADS[name], "FRAMEWORKS", FRAMEWORKS):
                continue  # no model in that framework (imdb_lstm_dropout: PyTorch has no recurrent dropout)
            # --busy: quiet then busy, so both see the same machine within a minute or so of each other
            for busy in (False, True) if args.busy else (False,):
                result = _run_pair(name, framework, args.reps, args.threads, args.coretype, args.timeout, busy)
                results.append(result)
                status = result.get("error") or (
                    f"train {result['train_sps']:,.0f}/s  infer {result['infer_sps']:,.0f}/s  "
                    f"peak +{result['peak_mb']:.0f} MiB  ({result['wall_s']:.0f}s, load {result['load_at_start']:.1f})"
                )
                if result.get("blas_threads_chosen") is not None:  # Ember's thread policy, last decision
                    status += f"  BLAS threads {result['blas_threads_chosen']}"
                if result.get("neighbour_cpus") is not None:
                    status += f"  neighbour {result['neighbour_cpus']:.2f} CPU"
                print(f"  {name:10s} {framework:6s} {'busy ' if busy else ''}{status}", flush=True)
    quiet = [r for r in results if not r.get("busy")]
    print()
    print(format_table(quiet))
    if args.busy:
        busy = [r for r in results if r.get("busy")]
        print("\nBeside one CPU-bound neighbour process (--busy):\n")
        print(format_table(busy))
        print("\nRatios quiet and busy (busy/quiet: the issue's target is >= 0.8):\n")
        print(format_busy_table(quiet, busy))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "args": vars(args), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
