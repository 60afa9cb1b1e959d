"""ember.applications against keras.applications (torch backend): architectures (parameter count,
layer count and names, output shape), predictions with Keras's weights copied in, weights files,
.keras files read by Keras, preprocess_input per mode, decode_predictions' format and its class index."""

import hashlib
import json
import os

import numpy as np
import pytest

import ember
from ember.applications import imagenet_utils

os.environ.setdefault("KERAS_BACKEND", "torch")

SMALL = (32, 32, 3)


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines the applications")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _both(keras, module, fn, **kw):
    import importlib

    km = getattr(keras.applications, fn)(weights=None, **kw)
    em = getattr(importlib.import_module(f"ember.applications.{module}"), fn)(weights=None, **kw)
    return km, em


def _explicit_names(model):
    """Layer names the builder chose (auto-generated ones like ``conv2d_3`` depend on session counters)."""
    import re

    def snake(cls):
        return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls).lower()

    return sorted(
        layer.name for layer in model.layers if re.sub(r"_\d+$", "", layer.name) != snake(type(layer).__name__)
    )


def _assert_same_architecture(km, em):
    # same layers (Keras lists a branched graph's layers by depth, Ember by call order: compare as multisets)
    assert em.name == km.name
    # Keras leaves graph ops (MobileNetV3's x + 3.0) out of model.layers; Ember lists them as TensorOp layers
    em_classes = sorted(type(layer).__name__ for layer in em.layers if type(layer).__name__ != "TensorOp")
    assert em_classes == sorted(type(layer).__name__ for layer in km.layers)
    assert _explicit_names(em) == _explicit_names(km)
    assert em.count_params() == km.count_params()
    assert tuple(em.output.shape) == tuple(km.output.shape)
    shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in km.layers}
    for layer in em.layers:
        if layer.name in shapes:
            assert [tuple(w.shape) for w in layer.weights] == shapes[layer.name], layer.name


# one case per family and per top/pooling variant that runs in the default suite (small inputs)
FAST_CASES = [
    ("resnet", "ResNet50", dict(include_top=False, input_shape=SMALL)),
    ("resnet_v2", "ResNet50V2", dict(include_top=False, input_shape=SMALL, pooling="max")),
    ("vgg16", "VGG16", dict(include_top=False, input_shape=SMALL, pooling="avg")),
    ("mobilenet_v2", "MobileNetV2", dict(input_shape=SMALL, classes=7, classifier_activation=None)),
    ("mobilenet_v2", "MobileNetV2", dict(alpha=0.35, include_top=False, input_shape=(96, 96, 3))),
    ("densenet", "DenseNet121", dict(include_top=False, input_shape=SMALL, pooling="avg")),
    ("efficientnet", "EfficientNetB0", dict(include_top=False, input_shape=SMALL)),
    ("mobilenet", "MobileNet", dict(input_shape=SMALL, alpha=0.5, classes=3)),
    ("mobilenet_v3", "MobileNetV3Small", dict(input_shape=SMALL, classes=3)),
    ("efficientnet_v2", "EfficientNetV2B0", dict(include_top=False, input_shape=SMALL, pooling="avg")),
]
# every other builder with its default top (224 inputs; built, never run)
SLOW_CASES = [
    ("resnet", "ResNet50", {}),
    ("resnet", "ResNet101", dict(include_top=False, input_shape=SMALL, pooling="avg")),
    ("resnet", "ResNet152", dict(classes=10)),
    ("resnet_v2", "ResNet101V2", {}),
    ("resnet_v2", "ResNet152V2", dict(include_top=False, input_shape=SMALL)),
    ("vgg16", "VGG16", {}),
    ("vgg19", "VGG19", dict(classes=3, input_shape=(64, 64, 3))),
    ("mobilenet_v2", "MobileNetV2", dict(alpha=1.4)),
    ("densenet", "DenseNet121", {}),
    ("densenet", "DenseNet169", dict(include_top=False, input_shape=SMALL, pooling="max")),
    ("densenet", "DenseNet201", {}),
    *[("efficientnet", f"EfficientNetB{i}", dict(include_top=False, input_shape=SMALL)) for i in range(1, 8)],
    ("efficientnet", "EfficientNetB2", {}),
    ("mobilenet", "MobileNet", {}),
    ("mobilenet", "MobileNet", dict(alpha=0.25, depth_multiplier=2, include_top=False, input_shape=SMALL)),
    ("mobilenet_v3", "MobileNetV3Small", dict(input_shape=(224, 224, 3))),
    ("mobilenet_v3", "MobileNetV3Large", dict(input_shape=(64, 64, 3), include_top=False, pooling="avg")),
    ("mobilenet_v3", "MobileNetV3Large", dict(input_shape=SMALL, minimalistic=True, alpha=1.25)),
    *[
        ("efficientnet_v2", f"EfficientNetV2{v}", dict(include_top=False, input_shape=SMALL))
        for v in ("B1", "B2", "B3", "S", "M", "L")
    ],
    ("efficientnet_v2", "EfficientNetV2S", dict(input_shape=SMALL, include_preprocessing=False)),
    ("xception", "Xception", {}),
    ("xception", "Xception", dict(include_top=False, input_shape=(71, 71, 3), pooling="avg")),
    ("inception_v3", "InceptionV3", {}),
    ("inception_v3", "InceptionV3", dict(include_top=False, input_shape=(75, 75, 3), pooling="max")),
    ("inception_resnet_v2", "InceptionResNetV2", dict(include_top=False, input_shape=(75, 75, 3))),
    ("convnext", "ConvNeXtTiny", {}),
    ("convnext", "ConvNeXtSmall", dict(include_top=False, input_shape=SMALL, pooling="avg")),
    *[("convnext", f"ConvNeXt{v}", dict(include_top=False, input_shape=SMALL)) for v in ("Base", "Large", "XLarge")],
    ("nasnet", "NASNetLarge", dict(include_top=False, input_shape=(64, 64, 3))),
]


@pytest.mark.parametrize(("module", "fn", "kw"), FAST_CASES, ids=lambda v: str(v) if isinstance(v, str) else "")
@pytest.mark.slow
def test_builder_matches_keras(keras, module, fn, kw):
    _assert_same_architecture(*_both(keras, module, fn, **kw))


@pytest.mark.slow
@pytest.mark.parametrize(("module", "fn", "kw"), SLOW_CASES, ids=lambda v: str(v) if isinstance(v, str) else "")
def test_every_builder_matches_keras(keras, module, fn, kw):
    _assert_same_architecture(*_both(keras, module, fn, **kw))


@pytest.mark.slow
def test_nasnet_mobile_matches_keras_generic_builder(keras):
    # keras.applications.NASNetMobile refuses the torch backend (an open Keras bug); its NASNet() builds it
    from keras.src.applications.nasnet import NASNet

    km = NASNet((224, 224, 3), 1056, 4, 32, False, 2, True, None, None, None, 1000, 224, "softmax", "nasnet_mobile")
    _assert_same_architecture(km, ember.applications.NASNetMobile(weights=None))


def _randomize(km, seed=0):
    """Keras's fresh weights with BatchNorm statistics and biases made non-trivial."""
    rng = np.random.default_rng(seed)
    values = []
    for w in km.weights:
        v = np.asarray(w.numpy())
        if "variance" in w.path:
            v = rng.uniform(0.5, 1.5, v.shape)
        elif "kernel" not in w.path:
            v = v + rng.normal(0.0, 0.1, v.shape)
        values.append(v.astype("float32"))
    km.set_weights(values)
    return values


@pytest.mark.parametrize(
    ("module", "fn", "kw"),
    [
        ("resnet", "ResNet50", dict(include_top=False, input_shape=SMALL, pooling="avg")),
        ("mobilenet_v2", "MobileNetV2", dict(input_shape=SMALL, classes=10)),
        ("vgg16", "VGG16", dict(include_top=False, input_shape=SMALL)),
    ],
    ids=["ResNet50", "MobileNetV2", "VGG16"],
)
@pytest.mark.slow
def test_predictions_match_keras_with_its_weights(keras, module, fn, kw):
    km, em = _both(keras, module, fn, **kw)
    _randomize(km)
    copied = 0
    for layer in km.layers:  # by name: every layer with weights has a chosen name in these three families
        if layer.weights:
            em.get_layer(layer.name).set_weights(layer.get_weights())
            copied += 1
    assert copied == sum(1 for layer in em.layers if layer.weights)
    x = np.random.default_rng(1).uniform(0, 255, (2, *SMALL)).astype("float32")
    x = imagenet_utils.preprocess_input(x.copy(), mode="tf")
    want = np.asarray(km.predict(x, verbose=0))
    got = np.asarray(em.predict(x, verbose=0))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@pytest.mark.slow
def test_weights_path_loads_a_keras_weights_file(keras, tmp_path):
    km = keras.applications.EfficientNetB0(weights=None, include_top=False, input_shape=SMALL, pooling="avg")
    _randomize(km, seed=3)
    path = str(tmp_path / "b0.weights.h5")
    km.save_weights(path)
    em = ember.applications.EfficientNetB0(weights=path, include_top=False, input_shape=SMALL, pooling="avg")
    x = np.random.default_rng(2).uniform(0, 255, (1, *SMALL)).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(em.predict(x, verbose=0)), want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize(
    ("fn", "kw", "file_name"),
    [
        (
            "MobileNetV2",
            dict(include_top=False, input_shape=(96, 96, 3), alpha=0.35),
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5",
        ),
        pytest.param(
            "ResNet50",
            dict(include_top=False, input_shape=SMALL),
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            marks=pytest.mark.slow,
        ),
    ],
    ids=["MobileNetV2", "ResNet50"],
)
@pytest.mark.slow
def test_imagenet_weights_load_from_the_cache(keras, monkeypatch, tmp_path, fn, kw, file_name):
    # a Keras 2-layout .h5 (the ImageNet files' format) in the cache is loaded, matched by layer name:
    # ResNet's branches are listed in another order by Keras than by Ember
    import warnings

    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    km = getattr(keras.applications, fn)(weights=None, **kw)
    _randomize(km, seed=7)
    (tmp_path / "models").mkdir()
    km.save(str(tmp_path / "models" / file_name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MobileNetV2's "weights for 224 will be loaded" note, as in Keras
        em = getattr(ember.applications, fn)(weights="imagenet", **kw)
    x = np.random.default_rng(8).uniform(-1, 1, (1, *kw["input_shape"])).astype("float32")
    want = np.asarray(km.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(em.predict(x, verbose=0)), want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@pytest.mark.slow
def test_keras_file_saved_by_ember_loads_in_keras(keras, tmp_path):
    em = ember.applications.MobileNetV2(weights=None, input_shape=SMALL, alpha=0.35, classes=5)
    path = str(tmp_path / "mnv2.keras")
    em.save(path)
    km = keras.models.load_model(path)
    assert km.count_params() == em.count_params()
    x = np.random.default_rng(4).uniform(-1, 1, (2, *SMALL)).astype("float32")
    np.testing.assert_allclose(np.asarray(km.predict(x, verbose=0)), em.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_one_forward_pass_on_small_models():
    for build in (ember.applications.MobileNetV2, ember.applications.EfficientNetB0):
        model = build(weights=None, input_shape=SMALL, classes=4)
        out = model(np.zeros((1, *SMALL), "float32"))
        assert tuple(out.shape) == (1, 4)
        np.testing.assert_allclose(np.asarray(out).sum(), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_imagenet_weights_error_names_the_file_and_load_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        ember.applications.ResNet50(weights="imagenet", include_top=False, input_shape=SMALL)
    msg = str(err.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg
    assert "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" in msg
    assert "load_weights" in msg


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ember.applications.VGG16(weights="/no/such/file.weights.h5"), "weights"),
        (lambda: ember.applications.ResNet50(weights="imagenet", classes=10), "classes"),
        (lambda: ember.applications.ResNet50(weights=None, input_shape=(16, 16, 3), include_top=False), "at least"),
        (lambda: ember.applications.ResNet50(weights=None, input_shape=(None, None, 3)), "static"),
    ],
    ids=["missing-file", "imagenet-classes", "too-small", "top-needs-static-shape"],
)
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_equals_keras(keras, mode, data_format):
    from keras.src.applications import imagenet_utils as k_utils

    rng = np.random.default_rng(0)
    for shape in [(2, 5, 6, 3), (5, 6, 3)] if data_format == "channels_last" else [(2, 3, 5, 6), (3, 5, 6)]:
        x = rng.uniform(0, 255, shape).astype("float32")
        want = k_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
        got = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
        np.testing.assert_array_equal(got, want)
        got_t = imagenet_utils.preprocess_input(ember.tensor(x), data_format=data_format, mode=mode)
        np.testing.assert_allclose(np.asarray(got_t), want, rtol=1e-6, atol=1e-5)
    ints = rng.integers(0, 256, (1, 4, 4, 3) if data_format == "channels_last" else (1, 3, 4, 4))
    want = k_utils.preprocess_input(ints, data_format=data_format, mode=mode)
    np.testing.assert_array_equal(imagenet_utils.preprocess_input(ints, data_format=data_format, mode=mode), want)


def test_family_preprocess_modes_equal_keras(keras):
    x = np.random.default_rng(5).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    for module in [
        m for m in dir(keras.applications) if m.islower() and not m.startswith("_") and m != "imagenet_utils"
    ]:
        k_mod = getattr(keras.applications, module)
        e_mod = getattr(ember.applications, module)
        np.testing.assert_array_equal(e_mod.preprocess_input(x.copy()), k_mod.preprocess_input(x.copy()))


def test_preprocess_input_refuses_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="bgr")


def _fake_index():
    return {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}


def test_decode_predictions_format_equals_keras(keras, monkeypatch):
    from keras.src.applications import imagenet_utils as k_utils

    index = _fake_index()
    monkeypatch.setattr(k_utils, "CLASS_INDEX", index)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)
    preds = np.random.default_rng(0).random((3, 1000)).astype("float32")
    want = k_utils.decode_predictions(preds, top=4)
    got = ember.applications.resnet.decode_predictions(preds, top=4)
    assert got == want
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        imagenet_utils.decode_predictions(preds[:, :10])


def test_decode_predictions_reads_the_class_index_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    path = tmp_path / "models" / "imagenet_class_index.json"
    path.parent.mkdir()
    path.write_text(json.dumps(_fake_index()))
    # a local copy stands in for Keras's file: pin its md5 as Keras pins the real one's
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(path.read_bytes()).hexdigest())
    preds = np.zeros((1, 1000), "float32")
    preds[0, 7] = 1.0
    (best,) = imagenet_utils.decode_predictions(preds, top=1)
    assert best == [("n00000007", "class_7", np.float32(1.0))]


def test_decode_predictions_offline_error_names_keras_url(monkeypatch, tmp_path):
    import urllib.request

    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(Exception, match="imagenet_class_index.json") as err:
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    assert imagenet_utils.CLASS_INDEX_PATH in str(err.value)


@pytest.mark.slow
def test_headless_model_accepts_any_image_size():
    # Keras's default for include_top=False: input_shape (None, None, 3)
    model = ember.applications.ResNet50(weights=None, include_top=False, pooling="avg")
    assert tuple(model.output.shape) == (None, 2048)
    assert tuple(model(np.zeros((1, 40, 48, 3), "float32")).shape) == (1, 2048)


def test_every_keras_name_exists_with_its_signature(keras):
    import inspect
    import types

    def same(k, e, where):
        assert str(inspect.signature(e)) == str(inspect.signature(k)), where

    for name in (n for n in dir(keras.applications) if not n.startswith("_")):
        k, e = getattr(keras.applications, name), getattr(ember.applications, name)
        if isinstance(k, types.ModuleType):
            for member in (m for m in dir(k) if not m.startswith("_")):
                assert hasattr(e, member), f"ember.applications.{name}.{member}"
                if callable(getattr(k, member)):
                    same(getattr(k, member), getattr(e, member), f"{name}.{member}")
        else:
            same(k, e, name)
