"""Hostile and oversized files: loading never reads outside the file, never imports, and stays within its limits.

Each test builds the reproduction of issue 13 in tmp_path (h5py / zipfile / numpy), checks that the
default (safe) load refuses it with the documented Ember error naming the member, and, where the
attack is about reading local files, that ``safe_mode=False`` really would have read them (so the
test proves the vector, not just an error). The memory tests load the oversized files in a child
process and compare its peak RSS before and after.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import ember
from ember import errors, saving

h5py = pytest.importorskip("h5py", reason="saving needs h5py")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- helpers ----------------------------------------------------------------------------------------------
def _model(units=2, inputs=4):
    return ember.Sequential([ember.Input(shape=(inputs,)), ember.layers.Dense(units, name="d")])


def _members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path, members, compression=zipfile.ZIP_STORED) -> str:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


def _edit_weights(data: bytes, edit) -> bytes:
    """A copy of an in-memory ``model.weights.h5`` after ``edit(h5file)``."""
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        edit(f)
    return buf.getvalue()


def _keras_file(tmp_path, name="m.keras", model=None) -> str:
    path = str(tmp_path / name)
    saving.save_model(model or _model(), path)
    return path


def _hostile_keras(tmp_path, edit, name="hostile.keras") -> str:
    members = _members(_keras_file(tmp_path))
    members["model.weights.h5"] = _edit_weights(members["model.weights.h5"], edit)
    return _write_zip(tmp_path / name, members)


def _secret(tmp_path) -> str:
    path = str(tmp_path / "secret.bin")
    np.arange(8, dtype="float32").tofile(path)
    return path


def _other_h5(tmp_path) -> str:
    path = str(tmp_path / "other.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("vars/0", data=np.arange(8, dtype="float32").reshape(4, 2))
        f.create_dataset("vars/1", data=np.full(2, 7, "float32"))
    return path


def _external_storage(secret):
    def edit(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(4, 2), dtype="float32", external=[(secret, 0, 32)])

    return edit


def _external_link(other):
    def edit(f):
        del f["layers/dense/vars"]
        f["layers/dense/vars"] = h5py.ExternalLink(other, "/vars")

    return edit


def _soft_link_through_external(other):
    def edit(f):
        f["outside"] = h5py.ExternalLink(other, "/")
        del f["layers/dense/vars"]
        f["layers/dense/vars"] = h5py.SoftLink("/outside/vars")

    return edit


def _virtual(other):
    def edit(f):
        layout = h5py.VirtualLayout(shape=(4, 2), dtype="float32")
        layout[:] = h5py.VirtualSource(other, "vars/0", shape=(4, 2))
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_virtual_dataset("0", layout)

    return edit


# ---- 1. nothing outside the file -----------------------------------------------------------------------------
@pytest.mark.parametrize("attack", ["external_storage", "external_link", "soft_link", "virtual"])
def test_keras_file_whose_weights_point_outside_is_refused(tmp_path, attack):
    secret, other = _secret(tmp_path), _other_h5(tmp_path)
    edit = {
        "external_storage": _external_storage(secret),
        "external_link": _external_link(other),
        "soft_link": _soft_link_through_external(other),
        "virtual": _virtual(other),
    }[attack]
    path = _hostile_keras(tmp_path, edit)
    with pytest.raises(errors.UnsafeFileError, match=r"model\.weights\.h5.*(layers/dense/vars|/outside)") as info:
        saving.load_model(path)
    assert isinstance(info.value, ValueError) and "safe_mode=False" in str(info.value)
    with pytest.raises(errors.UnsafeFileError):
        saving.load_weights(_model(), path)  # the weights of a .keras file, read alone
    if attack == "external_storage":  # the vector is real: trusted, the kernel holds the other file's bytes
        trusted = saving.load_model(path, safe_mode=False)
        np.testing.assert_array_equal(trusted.layers[0].kernel.numpy(), np.arange(8, dtype="float32").reshape(4, 2))


@pytest.mark.parametrize("attack", ["external_storage", "external_link", "virtual"])
def test_weights_h5_pointing_outside_is_refused(tmp_path, attack):
    secret, other = _secret(tmp_path), _other_h5(tmp_path)
    path = str(tmp_path / "w.weights.h5")
    saving.save_weights(_model(), path)
    edit = {
        "external_storage": _external_storage(secret),
        "external_link": _external_link(other),
        "virtual": _virtual(other),
    }[attack]
    with h5py.File(path, "r+") as f:
        edit(f)
    with pytest.raises(errors.UnsafeFileError, match="w.weights.h5"):
        saving.load_weights(_model(), path)
    model = _model()
    saving.load_weights(model, path, safe_mode=False)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), np.arange(8, dtype="float32").reshape(4, 2))


def _legacy_copy(tmp_path, edit) -> str:
    path = str(tmp_path / "legacy.h5")
    with open(os.path.join(FIXTURES, "legacy_sequential_mlp.h5"), "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    with h5py.File(path, "r+") as f:
        edit(f, _first_kernel(f))
    return path


def _first_kernel(f) -> str:
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.ndim == 2:
            found.append(name)

    f["model_weights"].visititems(visit)
    return "model_weights/" + sorted(found)[0]


def test_legacy_h5_with_external_storage_or_link_is_refused(tmp_path):
    def external_storage(f, name):
        shape, dtype = f[name].shape, f[name].dtype
        secret = str(tmp_path / "secret.bin")
        np.ones(shape, dtype).tofile(secret)
        del f[name]
        f.create_dataset(name, shape=shape, dtype=dtype, external=[(secret, 0, int(np.prod(shape)) * dtype.itemsize)])

    path = _legacy_copy(tmp_path, external_storage)
    with pytest.raises(errors.UnsafeFileError, match="external file"):
        saving.load_model(path)
    assert float(saving.load_model(path, safe_mode=False).layers[0].kernel.numpy().min()) == 1.0

    def link(f, name):
        other = str(tmp_path / "o.h5")
        with h5py.File(other, "w") as o:
            o["k"] = f[name][()]
        del f[name]
        f[name] = h5py.ExternalLink(other, "/k")

    with pytest.raises(errors.UnsafeFileError, match="external link"):
        saving.load_model(_legacy_copy(tmp_path, link))


def test_dataset_needing_an_hdf5_filter_plugin_is_refused(tmp_path):
    """HDF5 loads a plugin library for a filter it does not have built in: the file would choose code to load."""
    path = str(tmp_path / "w.weights.h5")
    saving.save_weights(_model(), path)
    with h5py.File(path, "r+") as f:
        kernel = f["layers/dense/vars/0"][()]
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=kernel, compression=32001, allow_unknown_filter=True)
    with pytest.raises(errors.UnsafeFileError, match="filter 32001.*plugin"):
        saving.load_weights(_model(), path)
    gzipped = str(tmp_path / "gz.weights.h5")  # HDF5's own filters are fine
    saving.save_weights(_model(), gzipped)
    with h5py.File(gzipped, "r+") as f:
        kernel = f["layers/dense/vars/0"][()]
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=kernel, compression="gzip", shuffle=True)
    model = _model()
    saving.load_weights(model, gzipped)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)


def test_soft_link_inside_the_file_is_fine_and_a_dangling_one_is_a_format_error(tmp_path):
    def inside(f):
        f["copy_of_vars"] = f["layers/dense/vars/0"][()]
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/copy_of_vars")

    model = saving.load_model(_hostile_keras(tmp_path, inside, "inside.keras"))
    assert model.layers[0].kernel.shape == (4, 2)

    def dangling(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/nowhere")

    with pytest.raises(errors.FileFormatError, match="not in the file"):
        saving.load_model(_hostile_keras(tmp_path, dangling, "dangling.keras"))


def _lookup_model(vocabulary=None, adapt=None):
    layer = ember.layers.StringLookup(vocabulary=vocabulary, name="lookup")
    if adapt is not None:
        layer.adapt(np.array(adapt))
    model = ember.Sequential([layer])
    model(np.array([["a"]]))  # lookup layers take strings: the model is built by a call
    return model


def test_lookup_vocabulary_path_in_a_config_is_refused(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root\ndaemon\nbin\n")
    path = _keras_file(tmp_path, "lookup.keras", _lookup_model(vocabulary=["a", "b"]))
    members = _members(path)
    config = json.loads(members["config.json"])
    assert config["config"]["layers"][1]["config"]["vocabulary"] == ["a", "b"]
    config["config"]["layers"][1]["config"]["vocabulary"] = str(secret)
    members["config.json"] = json.dumps(config)
    with pytest.raises(errors.UnsafeFileError, match="vocabulary.*passwd"):
        saving.load_model(_write_zip(tmp_path / "vocab_path.keras", members))
    for cls in (ember.layers.StringLookup, ember.layers.IntegerLookup, ember.layers.TextVectorization):
        config = {"class_name": cls.__name__, "config": {"vocabulary": str(secret)}, "module": "keras.layers"}
        with pytest.raises(errors.UnsafeFileError, match="path"):
            saving.deserialize_keras_object(config)
        with pytest.raises(errors.UnsafeFileError, match="path"):
            ember.utils.deserialize_keras_object(config)
    # the vector is real: trusted, the layer reads the file
    config = {"class_name": "StringLookup", "config": {"vocabulary": str(secret)}, "module": "keras.layers"}
    assert saving.deserialize_keras_object(config, safe_mode=False).get_vocabulary() == [
        "[UNK]",
        "root",
        "daemon",
        "bin",
    ]


def test_adapted_vocabulary_travels_in_the_archive_assets(tmp_path):
    model = _lookup_model(adapt=["b", "a", "b", "c", "b", "a"])
    path = _keras_file(tmp_path, "adapted.keras", model)
    names = _members(path)
    # Keras's layout: assets/<the object's path>/vocabulary.txt, special tokens first, one token a line
    assert names["assets/layers/string_lookup/vocabulary.txt"].decode().splitlines() == ["[UNK]", "b", "a", "c"]
    assert json.loads(names["config.json"])["config"]["layers"][1]["config"]["vocabulary"] is None
    loaded = saving.load_model(path)
    x = np.array([["a"], ["c"], ["zz"]])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.get_layer("lookup").get_vocabulary() == ["[UNK]", "b", "a", "c"]

    text = ember.layers.TextVectorization(max_tokens=10, output_mode="int", output_sequence_length=3, name="tv")
    text.adapt(np.array(["the cat", "the dog", "a cat"]))
    tv_model = ember.Sequential([text])
    tv_model(np.array(["the cat"]))
    tv_path = _keras_file(tmp_path, "tv.keras", tv_model)
    assert "assets/layers/text_vectorization/vocabulary.txt" in _members(tv_path)
    again = saving.load_model(tv_path)
    assert again.get_layer("tv").get_vocabulary() == text.get_vocabulary()
    sentences = np.array(["the dog", "a bird"])
    np.testing.assert_array_equal(again(sentences).numpy(), tv_model(sentences).numpy())


def test_asset_names_that_leave_the_folder_are_refused(tmp_path):
    path = _keras_file(tmp_path, "adapted.keras", _lookup_model(adapt=["a", "b"]))
    members = _members(path)
    members["assets/layers/string_lookup/../../../../evil.txt"] = b"x"
    with pytest.raises(errors.UnsafeFileError, match="outside the assets folder"):
        saving.load_model(_write_zip(tmp_path / "slip.keras", members))


class _ImportProbe:
    """A module on sys.path that leaves a marker file when it is imported."""

    def __init__(self, tmp_path, monkeypatch, name="ember_import_probe_mod"):
        self.name = name
        self.marker = tmp_path / "imported.marker"
        (tmp_path / f"{name}.py").write_text(
            f"open({str(self.marker)!r}, 'w').write('ran')\nclass Thing:\n    @classmethod\n"
            "    def from_config(cls, config):\n        return cls()\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, name, raising=False)

    def imported(self) -> bool:
        return self.marker.exists()


@pytest.mark.parametrize("deserialize", [ember.utils.deserialize_keras_object, saving.deserialize_keras_object])
def test_public_deserialize_never_imports_a_module_a_config_names(tmp_path, monkeypatch, deserialize):
    probe = _ImportProbe(tmp_path, monkeypatch)
    config = {"module": probe.name, "class_name": "Thing", "config": {}, "registered_name": None}
    with pytest.raises(errors.UnsafeFileError, match="not imported"):
        deserialize(config)
    with pytest.raises(errors.UnsafeFileError):
        deserialize({"module": probe.name, "class_name": "function", "config": "Thing", "registered_name": None})
    assert not probe.imported() and probe.name not in sys.modules
    assert type(deserialize(config, safe_mode=False)).__name__ == "Thing"  # trusted: imported, as Keras does
    assert probe.imported()


def test_load_model_never_imports_a_module_its_config_names(tmp_path, monkeypatch):
    probe = _ImportProbe(tmp_path, monkeypatch)
    path = _keras_file(tmp_path)
    members = _members(path)
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["module"] = probe.name
    config["config"]["layers"][1]["registered_name"] = None
    members["config.json"] = json.dumps(config)
    with pytest.raises(errors.UnsafeFileError, match=probe.name):
        saving.load_model(_write_zip(tmp_path / "mod.keras", members))
    assert not probe.imported()


def test_public_deserialize_refuses_lambdas_by_default():
    code = {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None, "closure": None}}
    with pytest.raises(saving.UnsafeDeserializationError, match="safe_mode=False"):
        ember.utils.deserialize_keras_object(code)


# ---- 2. bounded resources ----------------------------------------------------------------------------------
def _zip_bomb(tmp_path, megabytes=128) -> str:
    members = _members(_keras_file(tmp_path))
    path = str(tmp_path / "bomb.keras")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", members["config.json"])
        zf.writestr("metadata.json", members["metadata.json"])
        with zf.open("model.weights.h5", "w", force_zip64=True) as w:
            w.write(members["model.weights.h5"])
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                w.write(chunk)
    return path


def test_zip_bomb_keras_is_refused_before_inflating(tmp_path):
    path = _zip_bomb(tmp_path)
    assert os.path.getsize(path) < 1 << 20
    with pytest.raises(errors.ResourceLimitError) as info:
        saving.load_model(path)
    message = str(info.value)
    assert "'model.weights.h5'" in message and "ratio" in message and "max_compression_ratio" in message
    with pytest.raises(errors.ResourceLimitError, match="max_bytes"):
        saving.load_model(path, max_compression_ratio=1e9, max_bytes=64 << 20)


def test_declared_member_size_over_max_bytes_is_refused(tmp_path):
    path = _keras_file(tmp_path)
    expected = r"m.keras', member '.*' declares .* over the limit of 1000 bytes.*max_bytes"
    with pytest.raises(errors.ResourceLimitError, match=expected):
        saving.load_model(path, max_bytes=1000)
    saving.load_model(path, limits=saving.LoadLimits(max_bytes=1 << 20))


def test_huge_declared_hdf5_shape_is_refused_before_reading(tmp_path):
    def huge(f, name):
        del f[name]
        f.create_dataset(name, shape=(50000, 50000), dtype="float32", chunks=(1000, 1000), compression="gzip")

    path = _legacy_copy(tmp_path, huge)
    assert os.path.getsize(path) < 200_000
    with pytest.raises(errors.ResourceLimitError, match=r"\(50000, 50000\).*max_bytes"):
        saving.load_model(path)
    # with the limit raised, the shape is compared with the model's before any read
    with pytest.raises(saving.WeightsMismatchError, match=r"\(50000, 50000\)"):
        saving.load_model(path, max_bytes=1 << 40)


def _dense_config_bomb(tmp_path, units=16384) -> str:
    members = _members(_keras_file(tmp_path, model=_model(units=2, inputs=units)))
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = units
    config["config"]["layers"][1].pop("build_config", None)
    members["config.json"] = json.dumps(config)
    return _write_zip(tmp_path / "dense_bomb.keras", members)


def test_config_larger_than_its_stored_weights_fails_before_allocating(tmp_path):
    path = _dense_config_bomb(tmp_path)
    with pytest.raises(errors.ResourceLimitError, match=r"\(16384, 16384\).*Refused before allocating"):
        saving.load_model(path)


def test_model_from_json_bounds_the_weights_it_allocates():
    text = saving.to_json(_model(units=2, inputs=4)).replace('"units": 2', '"units": 3000000')
    text = text.replace("[null, 4]", "[null, 3000000]")
    with pytest.raises(errors.ResourceLimitError, match="max_bytes"):
        saving.model_from_json(text)


def test_huge_declared_input_shape_is_refused_before_the_shape_inference_allocates(tmp_path):
    """Ember infers each layer's output shape on an example tensor: a weightless model's config cannot size it."""
    model = ember.Sequential([ember.Input(shape=(4,)), ember.layers.Activation("relu", name="act")])
    text = saving.to_json(model).replace("[null, 4]", "[null, 134217728]")  # 1 GiB example tensors
    with pytest.raises(errors.ResourceLimitError, match=r"shape \([23], 134217728\).*max_stand_in_bytes"):
        saving.model_from_json(text)
    path = _keras_file(tmp_path, "act.keras", model)
    members = _members(path)
    members["config.json"] = members["config.json"].replace(b"[null, 4]", b"[null, 134217728]")
    with pytest.raises(errors.ResourceLimitError, match="max_stand_in_bytes"):
        saving.load_model(_write_zip(tmp_path / "wide.keras", members))
    assert saving.model_from_json(text.replace("134217728", "1000")).output_shape == (None, 1000)
    # a layer whose own config sizes its output (RepeatVector's n): checked before it runs
    repeat = ember.Sequential([ember.Input(shape=(4,)), ember.layers.RepeatVector(3, name="rep")])
    text = saving.to_json(repeat).replace('"n": 3', '"n": 67108864')  # 3 GiB for the stand-in output
    with pytest.raises(errors.ResourceLimitError, match=r"output of layer 'rep' of shape \(3, 67108864, 4\)"):
        saving.model_from_json(text)


def test_deep_json_is_an_ember_error_not_a_recursion_error(tmp_path):
    members = _members(_keras_file(tmp_path))
    members["config.json"] = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(errors.ResourceLimitError, match=r"config.json.*100000 deep.*max_json_depth"):
        saving.load_model(_write_zip(tmp_path / "deep.keras", members))
    with pytest.raises(errors.ResourceLimitError, match="max_json_depth"):
        saving.model_from_json('{"a": ' * 5000 + "1" + "}" * 5000)
    with pytest.raises(errors.ResourceLimitError, match="max_json_bytes"):
        saving.model_from_json("[" + "1," * 1000 + "1]", max_json_bytes=100)


def test_json_depth_is_exact_linear_and_ignores_brackets_in_strings():
    import time

    from ember.saving.limits import json_depth

    nested = {"a": [1, {"b": "[[{{", "c": ['\\"[', {"d": []}]}], "e\\": "}}"}
    text = json.dumps(nested).encode()
    for chunk in (1, 2, 3, 5, 1 << 20):  # strings and escapes cut across chunk boundaries
        assert json_depth(text, chunk) == 6  # {"a": [{"c": [{"d": []}]}]}
    start = time.perf_counter()
    assert json_depth(b'"\\' * 1_000_000) == 0  # unterminated escapes: a backtracking regex takes minutes
    assert time.perf_counter() - start < 5


def test_npz_bombs_are_refused(tmp_path):
    bomb = str(tmp_path / "bomb.npz")
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("w.npy", "w", force_zip64=True) as w:
            np.lib.format.write_array_header_1_0(w, {"descr": "<f4", "fortran_order": False, "shape": (1 << 25,)})
            for _ in range(128):
                w.write(bytes(1 << 20))
    with pytest.raises(errors.ResourceLimitError, match="'w.npy'.*ratio"):
        saving.load_tensors(bomb)

    liar = str(tmp_path / "liar.npz")  # a tiny member whose header declares 8 GiB
    with zipfile.ZipFile(liar, "w") as zf:
        with zf.open("w.npy", "w") as w:
            np.lib.format.write_array_header_1_0(w, {"descr": "<f8", "fortran_order": False, "shape": (1 << 30,)})
            w.write(bytes(64))
    with pytest.raises(errors.ResourceLimitError, match=r"'w.npy' \(shape \(1073741824,\)"):
        saving.load_tensors(liar)
    with pytest.raises(errors.FileFormatError, match="truncated"):
        saving.load_tensors(liar, max_bytes=1 << 40)

    saving.save_tensors({"a": np.ones(3, "float32")}, tmp_path / "ok.npz")
    np.testing.assert_array_equal(saving.load_tensors(tmp_path / "ok.npz")["a"], np.ones(3, "float32"))


@pytest.mark.slow
def test_memory_stays_bounded_on_the_oversized_reproductions(tmp_path):
    """Peak RSS of a child that loads each oversized file (all refused) stays near its baseline."""

    def huge(f, name):
        del f[name]
        f.create_dataset(name, shape=(50000, 50000), dtype="float32", chunks=(1000, 1000), compression="gzip")

    files = {
        "zip_bomb": _zip_bomb(tmp_path, megabytes=512),
        "legacy_50000x50000": _legacy_copy(tmp_path, huge),
        "dense_16384": _dense_config_bomb(tmp_path),
    }
    script = textwrap.dedent(
        """
        import json, resource, sys
        import ember
        from ember import errors, saving
        def peak():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        saving.load_model(sys.argv[1])  # warm up: everything a load imports
        out = {"baseline": peak()}
        for kind, path in json.loads(sys.argv[2]).items():
            try:
                saving.load_model(path)
                out[kind] = "loaded"
            except errors.EmberError as err:
                out[kind] = type(err).__name__
            out[kind + "_peak"] = peak()
        print(json.dumps(out))
        """
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    done = subprocess.run(
        [sys.executable, "-c", script, _keras_file(tmp_path), json.dumps(files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for kind in files:
        assert out[kind] == "ResourceLimitError", out
        grown = out[f"{kind}_peak"] - out["baseline"]
        assert grown < 100 << 20, f"{kind}: peak RSS grew by {grown / 2**20:.0f} MiB ({out})"


# ---- 3. one error family ------------------------------------------------------------------------------------
def test_error_family():
    assert issubclass(errors.FileFormatError, (errors.EmberError, ValueError))
    assert issubclass(errors.UnsafeFileError, errors.FileFormatError)
    assert issubclass(errors.ResourceLimitError, errors.FileFormatError)
    assert issubclass(errors.PayloadError, ValueError) and issubclass(errors.DataError, ValueError)
    assert issubclass(saving.UnsafeDeserializationError, errors.UnsafeFileError)
    assert issubclass(saving.WeightsMismatchError, errors.FileFormatError)
    assert ember.errors is errors


@pytest.mark.parametrize(
    "damage",
    ["truncate", "not_h5_member", "weights_group_is_dataset", "config_list", "bad_class", "attr_junk"],
)
def test_damaged_files_raise_ember_errors_naming_the_file(tmp_path, damage):
    path = _keras_file(tmp_path)
    members = _members(path)
    if damage == "truncate":
        data = open(path, "rb").read()
        target = tmp_path / "cut.keras"
        target.write_bytes(data[: len(data) // 2])
    else:
        if damage == "not_h5_member":
            members["model.weights.h5"] = b"\x89HDF\r\n\x1a\n" + bytes(100)
        elif damage == "weights_group_is_dataset":

            def edit(f):
                del f["layers/dense/vars"]
                f["layers/dense/vars"] = np.zeros(3)

            members["model.weights.h5"] = _edit_weights(members["model.weights.h5"], edit)
        elif damage == "config_list":
            members["config.json"] = b"[1, 2, 3]"
        elif damage == "bad_class":
            config = json.loads(members["config.json"])
            config["config"]["layers"][1]["config"] = "not a dict"
            members["config.json"] = json.dumps(config)
        elif damage == "attr_junk":
            config = json.loads(members["config.json"])
            config["config"]["layers"][1]["config"]["units"] = "many"
            members["config.json"] = json.dumps(config)
        target = tmp_path / "damaged.keras"
        _write_zip(target, members)
    with pytest.raises(errors.FileFormatError) as info:
        saving.load_model(str(target))
    assert str(target) in str(info.value)


def test_cli_prints_one_line_for_an_ember_error(tmp_path, capsys):
    from ember.tools.cli import main

    path = _hostile_keras(tmp_path, _external_storage(_secret(tmp_path)))
    for argv in (["summary", path], ["convert", path, str(tmp_path / "out.keras")]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "UnsafeFileError" in err and "external" in err, err
    # a mismatch report is several lines in Python; the CLI still prints one
    mismatch = str(tmp_path / "mismatch.keras")
    saving.save_model(_model(units=3), mismatch)
    members = _members(mismatch)
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 2
    members["config.json"] = json.dumps(config)
    _write_zip(mismatch, members)
    assert main(["summary", mismatch]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "expected (4, 2), found (4, 3)" in err, err
    assert not (tmp_path / "out.keras").exists()
