"""ember.saving: .keras both ways with real Keras 3, legacy .h5, weights files, exact resume, safety, bad files."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import ember
from ember import saving

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="real Keras 3 is the oracle for the file formats")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
RTOL, ATOL = 1e-5, 1e-6


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(b).max())))


def _ember_functional():
    inp = ember.Input(shape=(6,), name="features")
    h = ember.layers.Dense(8, activation="relu", name="hidden")(inp)
    h = ember.layers.Dropout(0.3, name="drop")(h)
    a = ember.layers.Dense(3, activation="softmax", name="probs")(h)
    b = ember.layers.Dense(2, activation="tanh", use_bias=False, name="aux")(inp)
    return ember.Model(inp, [a, b], name="two_heads")


def _ember_sequential():
    return ember.Sequential(
        [
            ember.layers.Dense(8, activation="relu", input_shape=(6,)),
            ember.layers.Dropout(0.2),
            ember.layers.Dense(4, activation="sigmoid"),
        ],
        name="seq",
    )


# ---- Ember -> .keras -> Keras 3 ---------------------------------------------------------------------
@pytest.mark.parametrize("build", [_ember_functional, _ember_sequential])
def test_ember_keras_file_loads_in_keras_and_predicts_the_same(tmp_path, build):
    model = build()
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "m.keras"
    saving.save_model(model, path)
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"metadata.json", "config.json", "model.weights.h5"}
        config = json.loads(zf.read("config.json"))
    assert set(config) >= {"module", "class_name", "config", "registered_name", "build_config", "compile_config"}
    loaded = keras.saving.load_model(str(path))
    x = _x((5, 6))
    ours, theirs = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
        _close(a, np.asarray(b))
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]


# ---- Keras 3 -> .keras -> Ember ---------------------------------------------------------------------
def _keras_functional():
    inp = keras.Input((6,), name="features")
    h = keras.layers.Dense(8, activation="relu", name="hidden")(inp)
    h = keras.layers.Dropout(0.3, name="drop")(h)
    shared = keras.layers.Dense(8, activation="tanh", name="shared")
    h = shared(shared(h))
    a = keras.layers.Dense(3, activation="softmax", name="probs")(h)
    b = keras.layers.Dense(2, use_bias=False, name="aux")(inp)
    return keras.Model(inp, [a, b], name="two_heads")


def _keras_sequential():
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="elu"), keras.layers.Dense(1)])


@pytest.mark.parametrize("build", [_keras_functional, _keras_sequential])
def test_keras_keras_file_loads_in_ember_and_predicts_the_same(tmp_path, build):
    model = build()
    model.compile(optimizer="adam", loss="mse")
    x = _x((8, 6))
    ys = model.predict(x, verbose=0)
    model.fit(x, [np.zeros_like(y) for y in ys] if isinstance(ys, list) else np.zeros_like(ys), verbose=0)
    path = str(tmp_path / "k.keras")
    model.save(path)
    loaded = saving.load_model(path)
    ours, theirs = loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
        _close(a, np.asarray(b))
    # the optimizer's state came along: same slots as Keras's
    for ours_v, theirs_v in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(ours_v.numpy(), keras.ops.convert_to_numpy(theirs_v))


# ---- legacy Keras 2 .h5 (fixtures written by real Keras: tests/fixtures/make_legacy_h5.py) ----------
@pytest.mark.parametrize("name", ["sequential_mlp", "functional"])
def test_legacy_h5_loads_and_predicts_as_the_keras_model_that_wrote_it(name):
    model = saving.load_model(os.path.join(FIXTURES, f"legacy_{name}.h5"))
    io = np.load(os.path.join(FIXTURES, f"legacy_{name}_io.npz"), allow_pickle=False)
    out = model.predict(io["x"], verbose=0)
    out = out if isinstance(out, list) else [out]
    assert len(out) == len([k for k in io.files if k.startswith("y")])
    for i, y in enumerate(out):
        _close(y, io[f"y{i}"])
    assert model.compiled


def test_keras2_style_config_and_weight_names(tmp_path):
    """A Keras 2.x file: nested-list inbound_nodes, 'kernel:0' weight names, class 'Model'."""
    import h5py

    rng = np.random.default_rng(3)
    k1, b1, k2 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2))
    config = {
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "name": "in_1"},
                    "name": "in_1",
                    "inbound_nodes": [],
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d1",
                        "trainable": True,
                        "dtype": "float32",
                        "units": 4,
                        "activation": "relu",
                        "use_bias": True,
                        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}},
                    },
                    "name": "d1",
                    "inbound_nodes": [[["in_1", 0, 0, {}]]],
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d2",
                        "trainable": True,
                        "dtype": "float32",
                        "units": 2,
                        "activation": "linear",
                        "use_bias": False,
                    },
                    "name": "d2",
                    "inbound_nodes": [[["d1", 0, 0, {}]]],
                },
            ],
            "input_layers": [["in_1", 0, 0]],
            "output_layers": [["d2", 0, 0]],
        },
    }
    path = tmp_path / "k2.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "2.4.0"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [b"in_1", b"d1", b"d2"]
        mw.create_group("in_1").attrs["weight_names"] = []
        g = mw.create_group("d1")
        g.attrs["weight_names"] = [b"d1/kernel:0", b"d1/bias:0"]
        g["d1/kernel:0"], g["d1/bias:0"] = k1.astype("float32"), b1.astype("float32")
        g = mw.create_group("d2")
        g.attrs["weight_names"] = [b"d2/kernel:0"]
        g["d2/kernel:0"] = k2.astype("float32")
    model = saving.load_model(path)
    x = _x((4, 3))
    expected = np.maximum(x @ k1.astype("float32") + b1.astype("float32"), 0) @ k2.astype("float32")
    _close(model.predict(x, verbose=0), expected)


# ---- weights files -----------------------------------------------------------------------------------
def test_weights_h5_layout_matches_keras_both_ways(tmp_path):
    model = _ember_sequential()
    path = str(tmp_path / "w.weights.h5")
    saving.save_weights(model, path)
    twin = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(4, activation="sigmoid"),
        ]
    )
    twin.load_weights(path)
    x = _x((3, 6))
    _close(model.predict(x, verbose=0), np.asarray(twin.predict(x, verbose=0)))
    # and back: Keras writes, Ember reads
    twin.layers[0].set_weights([w * 2 for w in twin.layers[0].get_weights()])
    kpath = str(tmp_path / "k.weights.h5")
    twin.save_weights(kpath)
    saving.load_weights(model, kpath)
    _close(model.predict(x, verbose=0), np.asarray(twin.predict(x, verbose=0)))


def test_load_weights_by_name_and_mismatch_report(tmp_path):
    src = ember.Sequential([ember.layers.Dense(4, input_shape=(3,), name="a"), ember.layers.Dense(2, name="b")])
    path = str(tmp_path / "src.weights.h5")
    saving.save_weights(src, path)
    # same names, other order and one different shape
    dst = ember.Sequential([ember.layers.Dense(4, input_shape=(3,), name="a"), ember.layers.Dense(5, name="b")])
    with pytest.raises(saving.WeightsMismatchError) as info:
        saving.load_weights(dst, path)
    message = str(info.value)
    assert "layer 'b'" in message and "expected (4, 5)" in message and "found (4, 2)" in message
    with pytest.warns(UserWarning, match="layer 'b'"):
        skipped = saving.load_weights(dst, path, skip_mismatch=True)
    assert {m[1] for m in skipped} == {"b"}
    np.testing.assert_array_equal(dst.get_layer("a").get_weights()[0], src.get_layer("a").get_weights()[0])
    # by name: a model whose layers come in another order
    inp = ember.Input(shape=(3,))
    b_first = ember.layers.Dense(2, name="b")
    a_second = ember.layers.Dense(4, name="a")
    other = ember.Model(inp, [b_first(a_second(inp))])
    saving.load_weights(other, path, by_name=True)
    for name in ("a", "b"):
        for got, want in zip(other.get_layer(name).get_weights(), src.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)


def test_legacy_weights_by_name(tmp_path):
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    path = str(tmp_path / "legacy.h5")
    kmodel.save(path)  # Keras 3's legacy full-model writer; its model_weights hold the Keras 2 weights layout
    ours = ember.Sequential([ember.layers.Dense(2, input_shape=(4,), name="b")])
    saving.load_weights(ours, path, by_name=True)
    for got, want in zip(ours.get_layer("b").get_weights(), kmodel.get_layer("b").get_weights()):
        np.testing.assert_array_equal(got, want)


# ---- exact resume --------------------------------------------------------------------------------------
def test_resume_from_keras_file_continues_bit_for_bit(tmp_path):
    x, y = _x((64, 6), 1), _x((64, 4), 2)

    def fresh():
        ember.utils.set_random_seed(7) if hasattr(ember, "utils") else None
        model = _ember_sequential_no_dropout()
        model.compile(optimizer=ember.optimizers.Adam(learning_rate=0.01), loss="mse")
        return model

    straight = fresh()
    weights0 = straight.get_weights()
    full = straight.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    first = fresh()
    first.set_weights(weights0)
    half = first.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history["loss"]
    path = str(tmp_path / "ckpt.keras")
    saving.save_model(first, path)
    resumed = saving.load_model(path)
    rest = resumed.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history["loss"]
    assert half + rest == full
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.optimizer.iterations.numpy()) == int(straight.optimizer.iterations.numpy()) == 8


def _ember_sequential_no_dropout():
    return ember.Sequential(
        [ember.layers.Dense(8, activation="relu", input_shape=(6,)), ember.layers.Dense(4)], name="resume"
    )


# ---- safety --------------------------------------------------------------------------------------------
def test_lambda_layers_are_refused_unless_safe_mode_is_off(tmp_path):
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Dense(2)])
    path = str(tmp_path / "lambda.keras")
    kmodel.save(path)
    with pytest.raises(saving.UnsafeDeserializationError, match="safe_mode=False"):
        saving.load_model(path)
    with pytest.raises(saving.UnsafeDeserializationError):
        saving.model_from_json(kmodel.to_json())
    x = _x((4, 3))
    loaded = saving.load_model(path, safe_mode=False)  # the caller trusts the file: the lambda runs
    _close(loaded.predict(x, verbose=0), kmodel.predict(x, verbose=0))


def test_an_ember_lambda_layer_loads_in_keras_and_back_with_safe_mode_off(tmp_path):
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(2), ember.layers.Lambda(lambda t: t * 2.0 - 1.0)])
    path = str(tmp_path / "ember_lambda.keras")
    model.save(path)
    x = _x((5, 3), seed=1)
    expected = model.predict(x, verbose=0)
    with pytest.raises(saving.UnsafeDeserializationError, match="safe_mode=False"):
        saving.load_model(path)
    _close(saving.load_model(path, safe_mode=False).predict(x, verbose=0), expected)
    _close(keras.models.load_model(path, safe_mode=False).predict(x, verbose=0), expected)


def test_nothing_is_unpickled(tmp_path, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    model = _ember_functional()
    model.compile(optimizer="rmsprop", loss="mse")
    path = str(tmp_path / "m.keras")
    saving.save_model(model, path)
    saving.load_model(path)
    saving.load_model(os.path.join(FIXTURES, "legacy_sequential_mlp.h5"))
    obj = np.empty(2, dtype=object)
    np.save(tmp_path / "o.npy", obj, allow_pickle=True)
    np.savez(tmp_path / "pickled.npz", a=obj)
    with pytest.raises(ValueError, match="pickle"):
        saving.load_tensors(tmp_path / "pickled.npz")


# ---- bad files and atomic saves ------------------------------------------------------------------------
def _good_file(tmp_path):
    model = _ember_sequential()
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / "good.keras")
    saving.save_model(model, path)
    return model, path


def test_truncated_corrupt_and_foreign_files_name_the_file(tmp_path):
    _, good = _good_file(tmp_path)
    data = open(good, "rb").read()
    cases = {
        "truncated.keras": data[: len(data) // 2],
        "empty.keras": b"",
        "text.keras": b"hello, I am not a model\n" * 10,
    }
    for name, blob in cases.items():
        path = str(tmp_path / name)
        with open(path, "wb") as f:
            f.write(blob)
        with pytest.raises(ValueError) as info:
            saving.load_model(path)
        assert path in str(info.value)
    # a zip without the model's entries
    foreign = str(tmp_path / "foreign.keras")
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="config.json"):
        saving.load_model(foreign)
    # corrupt weights inside a well-formed zip
    broken = str(tmp_path / "broken.keras")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.namelist():
            blob = src.read(item)
            dst.writestr(item, blob[:100] if item == "model.weights.h5" else blob)
    with pytest.raises(ValueError, match="model.weights.h5"):
        saving.load_model(broken)
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        saving.load_model(str(tmp_path / "nope.keras"))
    # an HDF5 file that is not a Keras model
    import h5py

    other = str(tmp_path / "data.h5")
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match="model_config"):
        saving.load_model(other)


def test_failed_save_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    model, path = _good_file(tmp_path)
    before = open(path, "rb").read()
    from ember.saving import keras_zip

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(keras_zip, "compile_config", boom)
    monkeypatch.setattr(model.layers[0], "get_config", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        saving.save_model(model, path)
    monkeypatch.undo()

    from ember.saving import weights_h5

    def fail_mid_write(model, root, include_optimizer=True):
        root.create_dataset("partial", data=np.zeros(3))
        raise OSError("write failed half way (simulated)")

    monkeypatch.setattr(weights_h5, "save_weights_to_group", fail_mid_write)
    with pytest.raises(OSError, match="half way"):
        saving.save_model(model, path)
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["good.keras"]  # no temporary file left behind
    saving.load_model(path)


# ---- JSON ------------------------------------------------------------------------------------------------
def test_to_json_round_trips_with_keras():
    model = _ember_functional()
    text = saving.to_json(model)
    kmodel = keras.models.model_from_json(text)
    assert [layer.name for layer in kmodel.layers] == [layer.name for layer in model.layers]
    back = saving.model_from_json(kmodel.to_json())
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in back.weights] == [w.shape for w in model.weights]


def test_custom_layer_by_registration(tmp_path):
    @saving.register_keras_serializable(package="ember_tests")
    class Scale(ember.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    inp = ember.Input(shape=(3,))
    model = ember.Model(inp, Scale(3.0, name="scale")(ember.layers.Dense(2, name="d")(inp)))
    path = str(tmp_path / "custom.keras")
    saving.save_model(model, path)
    with zipfile.ZipFile(path) as zf:
        layers = json.loads(zf.read("config.json"))["config"]["layers"]
    assert layers[-1]["registered_name"] == "ember_tests>Scale"
    loaded = saving.load_model(path)
    x = _x((2, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    saving.get_custom_objects().pop("ember_tests>Scale")
    with pytest.raises(ValueError, match="custom_objects"):
        saving.load_model(path)
    assert saving.load_model(path, custom_objects={"Scale": Scale}).get_layer("scale").factor == 3.0


# ---- the NumPy-only inference path --------------------------------------------------------------------------
def test_load_without_compile_and_predict_imports_only_numpy_h5py_ember(tmp_path):
    model = _ember_functional()
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / "m.keras")
    saving.save_model(model, path)
    script = textwrap.dedent(
        f"""
        import sys
        before = {{name.split(".")[0] for name in sys.modules}}  # what the interpreter's site hooks loaded
        import numpy as np
        from ember.saving import load_model
        model = load_model({path!r}, compile=False)
        model.predict(np.zeros((2, 6), "float32"), verbose=0)
        std = set(sys.stdlib_module_names)
        tops = {{name.split(".")[0] for name in sys.modules}}
        print(sorted(t for t in tops - before if t not in std and not t.startswith("_")))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    root = os.path.dirname(HERE)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    # cython_runtime: the module every Cython extension (h5py's) registers
    extra = set(json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))) - {
        "numpy",
        "h5py",
        "ember",
        "cython_runtime",
    }
    assert not extra, f"load_model(compile=False) + predict imported {sorted(extra)}"
