"""Fuzzing every loader: a damaged file loads, or raises an Ember error, within a memory and time budget.

Each loader gets valid seed files (``.keras`` with and without ``assets/``, ``.weights.h5``, legacy
Keras 2 ``.h5``, ``.npz``, ``.safetensors``, ``save_parameters`` files, a model's JSON config) and
hypothesis mutates them: byte flips, truncation, inserted and repeated bytes; for zip archives
member swaps, drops, duplicates and deflated copies; for HDF5 datasets replaced by huge declared
shapes, strings, groups or external links; for JSON configs values replaced by others (huge
numbers, deep nesting, paths, wrong types).

Every load runs in a forked child (the loaders use C libraries: a crash must fail the test, not
end the run) with an address-space cap, and reports how it ended and how much its peak RSS
grew. The property: it returned, or raised an ``ember.errors.EmberError`` not caused by running
out of memory, with peak RSS growth under ``RSS_BUDGET`` and within ``TIME_BUDGET`` seconds.

CI runs a few examples per loader (about 30 s in all); ``EMBER_FUZZ_EXAMPLES=500`` runs more.
"""

import io
import json
import os
import pickle
import resource
import select
import shutil
import signal
import sys
import time
import traceback
import tracemalloc
import zipfile

import numpy as np
import pytest

import ember
from ember import errors, saving

h5py = pytest.importorskip("h5py", reason="the HDF5 loaders need h5py")
hypothesis = pytest.importorskip("hypothesis", reason="the fuzz suite needs hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

if not hasattr(os, "fork"):
    pytest.skip("the fuzz suite forks a child per example (POSIX only)", allow_module_level=True)

EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "12"))
RSS_BUDGET = 256 << 20  # bytes of peak-RSS growth a load may cost
TIME_BUDGET = 30.0  # seconds a load may take (a quiet machine needs well under one)
ADDRESS_CAP = 4 << 30  # address space added on top of the child's own at fork time
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("EMBER_FUZZ_EXAMPLES") is None,  # CI: the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)


# ---- running one load in a child ----------------------------------------------------------------------------
def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss() -> int:
    """Start this (forked) process's peak-RSS count afresh and return its RSS now.

    A forked child inherits its parent's peak (VmHWM): after a test run that grew pytest past the budget, no
    allocation in the child could show as growth. Writing 5 to clear_refs resets the peak to the current RSS.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status_bytes("VmRSS")


def _run_in_child(load):
    """Run ``load()`` in a forked child; return (outcome, detail, rss_growth_bytes, seconds)."""
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        result = ("other", "no result", 0)
        try:
            if os.path.exists("/proc/self/status"):
                cap = _vm_bytes() + ADDRESS_CAP
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            before = _reset_peak_rss() if os.path.exists("/proc/self/clear_refs") else None
            if before is None:
                before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            # NumPy reports its buffers to tracemalloc: this sees an allocation that reuses memory the parent
            # freed but kept resident (glibc keeps it after ember tunes malloc), which no RSS count can see
            tracemalloc.start()
            try:
                load()
                outcome, detail = "loaded", ""
            except errors.EmberError as err:
                cause = err.__cause__
                if isinstance(cause, MemoryError):
                    outcome, detail = "memory", f"{type(err).__name__} from MemoryError: {err}"
                else:
                    outcome, detail = "ember", f"{type(err).__name__}: {str(err)[:300]}"
            except BaseException as err:  # noqa: BLE001 -- reported to the parent, which fails the test
                outcome = "other"
                detail = "".join(traceback.format_exception(type(err), err, err.__traceback__))[-3000:]
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            peak = _status_bytes("VmHWM") if os.path.exists("/proc/self/clear_refs") else 0
            grown = (peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) - before
            grown = max(grown, traced_peak)
            result = (outcome, detail, grown)
        finally:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(pickle.dumps(result))
            os._exit(0)
    os.close(write_end)
    chunks = []
    deadline = start + TIME_BUDGET
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", f"still running after {TIME_BUDGET} s", 0, TIME_BUDGET
            ready, _, _ = select.select([pipe], [], [], left)
            if ready:
                chunk = pipe.read()
                chunks.append(chunk)
                break
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        return "crash", f"killed by signal {os.WTERMSIG(status)}", 0, seconds
    outcome, detail, grown = pickle.loads(b"".join(chunks))
    return outcome, detail, grown, seconds


def _check(load, path, keep_dir):
    outcome, detail, grown, seconds = _run_in_child(load)
    hypothesis.event(outcome if outcome != "ember" else detail.split(":", 1)[0])
    ok = outcome in ("loaded", "ember") and grown < RSS_BUDGET and seconds < TIME_BUDGET
    if not ok:
        kept = os.path.join(keep_dir, f"failing-{os.getpid()}-{time.monotonic_ns()}-{os.path.basename(path)}")
        if os.path.isfile(path):
            shutil.copy(path, kept)
        pytest.fail(
            f"loading the mutated file (kept as {kept}) ended as {outcome!r} after {seconds:.2f} s with peak RSS "
            f"+{grown / 2**20:.0f} MiB:\n{detail}"
        )


# ---- seeds --------------------------------------------------------------------------------------------------
def _model():
    model = ember.Sequential(
        [ember.Input(shape=(4,)), ember.layers.Dense(3, activation="relu", name="a"), ember.layers.Dense(2, name="b")]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4), "float32"), np.zeros((8, 2), "float32"), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz_seeds")
    model = _model()
    out = {"folder": str(folder)}
    out["keras"] = str(folder / "m.keras")
    saving.save_model(model, out["keras"])
    out["weights"] = str(folder / "w.weights.h5")
    saving.save_weights(model, out["weights"])
    out["legacy"] = str(folder / "legacy.h5")
    shutil.copy(os.path.join(FIXTURES, "legacy_sequential_mlp.h5"), out["legacy"])
    arrays = {"kernel": np.arange(12, dtype="float32").reshape(3, 4), "bias": np.ones(4, "float64")}
    out["npz"] = str(folder / "t.npz")
    saving.save_tensors(arrays, out["npz"])
    out["safetensors"] = str(folder / "t.safetensors")
    saving.save_tensors(arrays, out["safetensors"], metadata={"k": "v"})
    out["json"] = saving.to_json(model)
    lookup = ember.layers.StringLookup(name="lookup")
    lookup.adapt(np.array(["b", "a", "b", "c"]))
    with_assets = ember.Sequential([lookup])
    with_assets(np.array([["a"]]))
    out["keras_assets"] = str(folder / "assets.keras")
    saving.save_model(with_assets, out["keras_assets"])
    out["params"] = str(folder / "p.safetensors")
    saving.save_parameters(_fresh_model(), out["params"])
    return out


def _fresh_model():
    return ember.Sequential(
        [ember.Input(shape=(4,)), ember.layers.Dense(3, activation="relu", name="a"), ember.layers.Dense(2, name="b")]
    )


# ---- mutations ----------------------------------------------------------------------------------------------
@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """``data`` after a few byte-level edits: flips, truncation, insertion, repetition."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "repeat", "zero"]))
        at = draw(st.integers(0, len(out) - 1))
        if kind == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "repeat":
            end = min(len(out), at + draw(st.integers(1, 256)))
            out[at:at] = out[at:end]
        else:
            end = min(len(out), at + draw(st.integers(1, 64)))
            out[at:end] = bytes(end - at)
    return bytes(out)


@st.composite
def zip_mutations(draw, path: str) -> bytes:
    """The zip at ``path`` rebuilt with its members swapped, dropped, duplicated, deflated or edited."""
    with zipfile.ZipFile(path) as zf:
        members = [(n, zf.read(n)) for n in zf.namelist()]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["swap", "drop", "duplicate", "edit", "rename"]))
        i = draw(st.integers(0, len(members) - 1)) if members else 0
        if not members:
            break
        if kind == "swap":
            j = draw(st.integers(0, len(members) - 1))
            (a, da), (b, db) = members[i], members[j]
            members[i], members[j] = (a, db), (b, da)
        elif kind == "drop":
            members.pop(i)
        elif kind == "duplicate":
            members.append(members[i])
        elif kind == "edit":
            name, data = members[i]
            members[i] = (name, draw(byte_mutations(data)) if data else b"")
        else:
            name, data = members[i]
            members[i] = (draw(st.sampled_from(["config.json", "model.weights.h5", "assets/x/../../y", "w.npy"])), data)
    deflate = draw(st.booleans())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _datasets(f) -> list:
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found.append(name)

    f.visititems(visit)
    return sorted(found)


@st.composite
def h5_mutations(draw, path: str, out_path: str) -> None:
    """Copy the HDF5 file at ``path`` to ``out_path`` with one of its datasets replaced by something hostile."""
    shutil.copy(path, out_path)
    kind = draw(st.sampled_from(["huge", "string", "group", "external_link", "scalar", "wrong_shape", "attr"]))
    with h5py.File(out_path, "r+") as f:
        names = _datasets(f)
        if not names:  # a model without weights (a lookup layer's vocabulary is an asset): give it one
            f.create_dataset("layers/string_lookup/vars/0", data=np.zeros(3, "float32"))
            names = _datasets(f)
        name = draw(st.sampled_from(names))
        del f[name]
        if kind == "huge":
            dims = draw(st.lists(st.integers(1, 1 << 20), min_size=1, max_size=3))
            f.create_dataset(name, shape=tuple(dims), dtype="float32", chunks=tuple(min(d, 64) for d in dims))
        elif kind == "string":
            f[name] = np.array([b"a", b"bc"])
        elif kind == "group":
            f.create_group(name)
        elif kind == "external_link":
            f[name] = h5py.ExternalLink("/etc/hostname", "/x")
        elif kind == "scalar":
            f[name] = 1.5
        elif kind == "wrong_shape":
            f[name] = np.zeros(draw(st.lists(st.integers(0, 5), max_size=3)), "float32")
        else:
            f.create_dataset(name, data=np.zeros(2, "float32"))
            target = draw(st.sampled_from(["layer_names", "weight_names", "model_config", "training_config"]))
            holder = f[name.rsplit("/", 1)[0]] if "/" in name else f
            for obj in (f, f.get("model_weights", f), holder):
                obj.attrs[target] = draw(st.sampled_from([np.array([b"nope"]), b"{", 3, np.zeros(3), b"[]"]))


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(1 << 70), 1 << 70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["/etc/passwd", "os", "__lambda__", "Dense", "function", "keras.layers", "this"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _paths(node, here=()):
    yield here
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*here, i))


@st.composite
def json_mutations(draw, text: str) -> str:
    """The JSON ``text`` with a few of its values replaced by others (or made very deep)."""
    config = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(config))
        where = draw(st.sampled_from(paths))
        value = draw(
            st.one_of(
                _JSON_VALUES,
                st.integers(1, 1 << 40),  # layer sizes
                st.builds(lambda n: json.loads("[" * n + "]" * n), st.integers(50, 900)),
            )
        )
        if not where:
            config = value
            continue
        node = config
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value
    return json.dumps(config)


# ---- the properties -----------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_keras_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed.keras")
    seed = seeds[data.draw(st.sampled_from(["keras", "keras", "keras_assets"]))]
    kind = data.draw(st.sampled_from(["bytes", "zip", "weights", "config"]))
    if kind == "bytes":
        blob = data.draw(byte_mutations(open(seed, "rb").read()))
    elif kind == "zip":
        blob = data.draw(zip_mutations(seed))
    else:
        with zipfile.ZipFile(seed) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        if kind == "weights":
            source, edited = os.path.join(folder, "member.h5"), os.path.join(folder, "member_edited.h5")
            with open(source, "wb") as f:
                f.write(members["model.weights.h5"])
            data.draw(h5_mutations(source, edited))
            members["model.weights.h5"] = open(edited, "rb").read()
        else:
            members["config.json"] = data.draw(json_mutations(members["config.json"].decode())).encode()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, member in members.items():
                zf.writestr(name, member)
        blob = buf.getvalue()
    with open(path, "wb") as f:
        f.write(blob)
    _check(lambda: saving.load_model(path), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_weights_h5_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed.weights.h5")
    if data.draw(st.booleans()):
        with open(path, "wb") as f:
            f.write(data.draw(byte_mutations(open(seeds["weights"], "rb").read())))
    else:
        data.draw(h5_mutations(seeds["weights"], path))
    by_name = data.draw(st.booleans())
    _check(lambda: saving.load_weights(_fresh_model(), path, by_name=by_name), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_legacy_h5_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed_legacy.h5")
    if data.draw(st.booleans()):
        with open(path, "wb") as f:
            f.write(data.draw(byte_mutations(open(seeds["legacy"], "rb").read())))
    else:
        data.draw(h5_mutations(seeds["legacy"], path))
    _check(lambda: saving.load_model(path), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_npz_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed.npz")
    kind = data.draw(st.sampled_from(["bytes", "zip", "header"]))
    if kind == "bytes":
        blob = data.draw(byte_mutations(open(seeds["npz"], "rb").read()))
    elif kind == "zip":
        blob = data.draw(zip_mutations(seeds["npz"]))
    else:  # a member whose .npy header declares another shape or dtype than its data
        shape = tuple(data.draw(st.lists(st.integers(0, 1 << 31), max_size=3)))
        descr = data.draw(st.sampled_from(["<f4", "<f8", "|O", "<i8", "|b1", "<U3"]))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            with zf.open("x.npy", "w") as w:
                np.lib.format.write_array_header_1_0(w, {"descr": descr, "fortran_order": False, "shape": shape})
                w.write(data.draw(st.binary(max_size=64)))
        blob = buf.getvalue()
    with open(path, "wb") as f:
        f.write(blob)
    _check(lambda: saving.load_tensors(path), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_safetensors_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed.safetensors")
    raw = open(seeds["safetensors"], "rb").read()
    if data.draw(st.booleans()):
        blob = data.draw(byte_mutations(raw))
    else:  # the same data under an edited header
        n = int.from_bytes(raw[:8], "little")
        header = data.draw(json_mutations(raw[8 : 8 + n].decode())).encode()
        blob = len(header).to_bytes(8, "little") + header + raw[8 + n :]
    with open(path, "wb") as f:
        f.write(blob)
    _check(lambda: saving.load_tensors(path), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_parameter_files(seeds, data):
    folder = seeds["folder"]
    path = os.path.join(folder, "fuzzed_params.safetensors")
    with open(path, "wb") as f:
        f.write(data.draw(byte_mutations(open(seeds["params"], "rb").read())))
    _check(lambda: saving.load_parameters(_fresh_model(), path), path, folder)


@FUZZ
@given(data=st.data())
@pytest.mark.slow
def test_json_model_configs(seeds, data):
    text = data.draw(json_mutations(seeds["json"]))
    if data.draw(st.booleans()):
        text = data.draw(byte_mutations(text.encode())).decode("utf-8", "replace")
    path = os.path.join(seeds["folder"], "fuzzed.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    _check(lambda: saving.model_from_json(text), path, seeds["folder"])


@pytest.mark.slow
def test_the_harness_reports_what_escapes(seeds):
    """The property can fail: a raw exception, a crash and an oversized allocation are each caught."""
    assert _run_in_child(lambda: saving.load_model(seeds["keras"]))[0] == "loaded"
    assert _run_in_child(lambda: {}["missing"])[0] == "other"
    assert _run_in_child(lambda: os.kill(os.getpid(), signal.SIGKILL))[0] == "crash"
    outcome, _, grown, _ = _run_in_child(lambda: np.ones(RSS_BUDGET // 8 * 2))
    assert outcome == "loaded" and grown >= RSS_BUDGET


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
