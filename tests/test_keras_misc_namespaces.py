"""Keras's smaller namespaces on Ember: mixed_precision, quantizers, export, visualization, distillation,
legacy, models.clone_model/save_model and datasets.california_housing (vs Keras 3 on torch where it runs)."""

import hashlib
import io
import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="Keras 3 is the oracle")


# ---------------------------------------------------------------- mixed_precision


@pytest.fixture
def restore_floatx():
    before = ember.config.floatx()
    yield
    ember.config.set_floatx(before)


def test_mixed_precision_policies(restore_floatx):
    mp = ember.mixed_precision
    assert mp.Policy is mp.DTypePolicy is ember.dtype_policies.DTypePolicy
    assert mp.global_policy().name == mp.dtype_policy().name == "float32"
    mp.set_global_policy("float64")
    assert ember.config.floatx() == "float64" and mp.global_policy().name == "float64"
    assert ember.layers.Dense(2).dtype == "float64"
    mp.set_dtype_policy(mp.Policy("float32"))
    assert ember.config.floatx() == "float32"
    for name in ("mixed_bfloat16", "bfloat16"):  # mixed_float16 works: tests/test_mixed_precision.py
        with pytest.raises(NotImplementedError, match="no bfloat16"):
            mp.set_global_policy(name)
    assert ember.config.floatx() == "float32"
    with pytest.raises(TypeError, match="policy name"):
        mp.set_dtype_policy(3)
    assert mp.LossScaleOptimizer is ember.optimizers.LossScaleOptimizer


def test_mixed_precision_names_match_keras():
    keras = _keras()
    public = {n for n in dir(keras.mixed_precision) if not n.startswith("_")}
    assert public <= set(dir(ember.mixed_precision))


# ---------------------------------------------------------------- quantizers


def test_abs_max_quantize_matches_keras():
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6)).astype("float32")
    for axis in (-1, 0, (0, 1)):
        kq, ks = keras.quantizers.abs_max_quantize(x, axis=axis)
        eq, es = ember.quantizers.abs_max_quantize(x, axis=axis)
        assert eq.dtype == np.int8 and es.dtype == np.float32
        np.testing.assert_array_equal(eq.numpy(), keras.ops.convert_to_numpy(kq))
        np.testing.assert_allclose(es.numpy(), keras.ops.convert_to_numpy(ks), rtol=1e-6)
    kq, _ = keras.quantizers.abs_max_quantize(x, axis=-1, value_range=(-7, 7))
    eq, _ = ember.quantizers.abs_max_quantize(x, axis=-1, value_range=(-7, 7))
    np.testing.assert_array_equal(eq.numpy(), keras.ops.convert_to_numpy(kq))
    with pytest.raises(TypeError, match="float inputs"):
        ember.quantizers.abs_max_quantize(np.arange(3), axis=0)


def test_quantized_layers_are_refused_with_the_alternative():
    q = ember.quantizers
    for cls in (q.AbsMaxQuantizer, q.Int8QuantizationConfig, q.GPTQConfig, q.Quantizer):
        with pytest.raises(NotImplementedError, match="float32"):
            cls()
    for fn in (q.pack_int4, q.unpack_int4, q.quantize_and_dequantize, q.compute_float8_scale, q.get):
        with pytest.raises(NotImplementedError, match="float32"):
            fn(np.zeros(2))


# ---------------------------------------------------------------- export, visualization, distillation, legacy


def test_tf_only_and_unbuilt_namespaces_name_the_alternative():
    with pytest.raises(NotImplementedError, match="ember.onnx.export"):
        ember.export.ExportArchive()
    for name in ember.visualization.__all__:
        with pytest.raises(NotImplementedError, match="matplotlib"):
            getattr(ember.visualization, name)(np.zeros((1, 4, 4, 3)))
    for name in ember.distillation.__all__:
        with pytest.raises(NotImplementedError, match="compute_loss"):
            getattr(ember.distillation, name)(None, None, None)


def test_every_keras_name_of_the_small_namespaces_exists():
    keras = _keras()
    for ns in ("export", "visualization", "distillation", "quantizers", "tree", "mixed_precision"):
        public = {n for n in dir(getattr(keras, ns)) if not n.startswith("_")}
        missing = public - set(dir(getattr(ember, ns)))
        assert not missing, f"ember.{ns} lacks {sorted(missing)}"


def test_legacy_saving_round_trips_a_keras2_config():
    legacy = ember.legacy.saving
    config = legacy.serialize_keras_object(ember.layers.Dense(3, activation="relu", name="d"))
    assert config["class_name"] == "Dense"
    layer = legacy.deserialize_keras_object(config)
    assert isinstance(layer, ember.layers.Dense) and layer.units == 3 and layer.name == "d"
    keras2 = {"class_name": "Dense", "config": {"units": 4, "activation": "tanh", "name": "k2"}}
    layer = legacy.deserialize_keras_object(keras2)
    assert isinstance(layer, ember.layers.Dense) and layer.units == 4


# ---------------------------------------------------------------- models.clone_model / save_model


def test_clone_sequential_like_keras():
    keras = _keras()
    for lib in (ember, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(2)])
        model.compile(optimizer="sgd", loss="mse")
        clone = lib.models.clone_model(model)
        assert clone.built and clone.name == model.name and len(clone.weights) == 4
        assert clone.layers[0] is not model.layers[0]
        assert clone.optimizer is not None and clone.optimizer is not model.optimizer
        assert not np.allclose(np.asarray(clone.layers[0].kernel), np.asarray(model.layers[0].kernel))

        def widen(layer, lib=lib):
            if isinstance(layer, lib.layers.Dense) and layer.units == 2:
                return layer.__class__.from_config({**layer.get_config(), "units": 5})
            return layer.__class__.from_config(layer.get_config())

        assert tuple(lib.models.clone_model(model, clone_function=widen).output_shape) == (None, 5)
        with pytest.raises(ValueError, match="call_function"):
            lib.models.clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))


def test_clone_functional_shares_nothing_and_computes_the_same_with_copied_weights():
    i = ember.Input((4,), name="a")
    j = ember.Input((2,), name="b")
    dense = ember.layers.Dense(3)
    h = dense(i)
    h2 = dense(ember.layers.Dense(4)(h))  # a shared layer
    out = ember.layers.Concatenate()([h2, j])
    model = ember.Model([i, j], out)
    clone = ember.models.clone_model(model)
    x = [np.ones((2, 4), "float32"), np.arange(4, dtype="float32").reshape(2, 2)]
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert not any(a is b for a, b in zip(clone.layers, model.layers))
    assert len(clone.weights) == len(model.weights) == 4  # the shared Dense is cloned once
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)

    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    ember.models.clone_model(model, call_function=call_function)
    assert len(calls) == 4  # Dense, Dense, shared Dense again, Concatenate
    shared = ember.models.clone_model(model, clone_function=lambda layer: layer)
    # every layer but the inputs is reused (inputs are made anew; in Keras's depth order an input joining late,
    # like "b" here, is not among the first layers)
    inputs = ember.layers.InputLayer
    kept = [(a, b) for a, b in zip(shared.layers, model.layers) if not isinstance(b, inputs)]
    assert len(kept) == 3 and all(a is b for a, b in kept)


def test_models_save_model_writes_a_keras_file(tmp_path):
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(2)])
    path = tmp_path / "m.keras"
    ember.models.save_model(model, path)
    loaded = ember.models.load_model(path)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy())


# ---------------------------------------------------------------- datasets.california_housing


def test_california_housing_matches_keras(tmp_path, monkeypatch):
    keras = _keras()
    from keras.src.datasets import california_housing as kc

    from ember.datasets import california_housing

    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    np.savez(buf, x=rng.normal(size=(700, 8)), y=rng.normal(size=700))
    data = buf.getvalue()
    cache = tmp_path / "home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "california_housing.npz").write_bytes(data)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(california_housing, "ORIGIN", "http://127.0.0.1:9/unused")
    monkeypatch.setattr(california_housing, "FILE_HASH", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(kc, "get_file", lambda *a, **kw: str(cache / "california_housing.npz"))
    assert keras.datasets.california_housing.load_data is kc.load_data
    for case in ({}, {"version": "small"}, {"test_split": 0.0, "seed": 5}):
        got, want = california_housing.load_data(**case), kc.load_data(**case)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="test_split"):
        california_housing.load_data(test_split=1.0)
