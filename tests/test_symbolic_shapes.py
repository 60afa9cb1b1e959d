"""Symbolic shapes with unknown (None) sizes: layers declare their output shapes (``compute_output_shape``).

Models on ``Input((None, None, 1))`` build with Keras's output shapes, None kept, and predict on
images of any size as Keras 3 does (oracle: KERAS_BACKEND=torch, weights copied).
"""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for output shapes")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _conv_net(lib):
    inputs = lib.Input((None, None, 1))
    x = lib.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = lib.layers.MaxPooling2D(2)(x)
    x = lib.layers.Conv2D(6, 5, strides=2, padding="same")(x)
    x = lib.layers.BatchNormalization()(x)
    x = lib.layers.Conv2D(8, 7)(x)  # a window wider than the old stand-in sizes 2 and 3
    spatial = x
    x = lib.layers.GlobalAveragePooling2D()(x)
    outputs = lib.layers.Dense(3)(x)
    return lib.Model(inputs, outputs), spatial


def test_conv_model_on_unknown_image_size_matches_keras(keras):
    model, spatial = _conv_net(ember)
    oracle, oracle_spatial = _conv_net(keras)
    assert tuple(spatial.shape) == tuple(oracle_spatial.shape) == (None, None, None, 8)
    assert tuple(model.output.shape) == tuple(oracle.output.shape) == (None, 3)
    assert [tuple(layer.output.shape) for layer in model.layers] == [
        tuple(layer.output.shape) for layer in oracle.layers
    ]
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.3, w.shape).astype("float32") for w in oracle.get_weights()]
    weights = [np.abs(w) + 0.5 if w.ndim == 1 and i in (6, 7) else w for i, w in enumerate(weights)]  # BN variance
    oracle.set_weights(weights)
    model.set_weights(weights)
    for size in ((40, 36), (57, 64)):
        x = rng.normal(size=(2, *size, 1)).astype("float32")
        np.testing.assert_allclose(
            np.asarray(model.predict(x, verbose=0)), oracle.predict(x, verbose=0), rtol=1e-4, atol=1e-5
        )


def test_pooling_and_dense_keep_unknown_sizes(keras):
    for lib in (ember, keras):
        inputs = lib.Input((None, None, 1))
        pooled = lib.layers.MaxPooling2D(pool_size=(9, 9))(inputs)
        dense = lib.layers.Dense(5)(pooled)
        flat = lib.layers.GlobalAveragePooling2D()(dense)
        assert tuple(pooled.shape) == (None, None, None, 1)
        assert tuple(dense.shape) == (None, None, None, 5)
        assert tuple(flat.shape) == (None, 5)
        # stand-in sizes 2 and 3 both pool to 1: only the declared shape knows the size varies
        assert tuple(lib.layers.MaxPooling2D(2)(inputs).shape) == (None, None, None, 1)


def test_known_sizes_are_declared_exactly():
    inputs = ember.Input((None, 30, 1))
    x = ember.layers.Conv2D(2, (3, 11), strides=(1, 2))(inputs)
    assert tuple(x.shape) == (None, None, 10, 2)
    model = ember.Model(inputs, x)
    assert tuple(model(np.zeros((1, 17, 30, 1), "float32")).shape) == (1, 15, 10, 2)


def test_window_too_large_for_known_size_still_fails_clearly():
    inputs = ember.Input((4, 4, 1))
    with pytest.raises(Exception, match="(?i)size|window|kernel|negative"):
        ember.layers.Conv2D(2, 7)(inputs)


def test_layer_without_declaration_still_infers_by_running():
    class Halve(ember.layers.Layer):
        def call(self, x):
            return x[:, ::2]

    inputs = ember.Input((None, 3))
    assert tuple(Halve()(inputs).shape) == (None, None, 3)
    inputs = ember.Input((8, 3))
    assert tuple(Halve()(inputs).shape) == (None, 4, 3)


@pytest.mark.slow
def test_headless_applications_build_with_default_input_shape():
    for build in (ember.applications.ResNet50, ember.applications.MobileNetV2):
        model = build(weights=None, include_top=False)
        assert tuple(model.input.shape) == (None, None, None, 3)
        assert model.output.shape[0] is None and model.output.shape[1:3] == (None, None)


def test_input_from_symbolic_tensor_as_keras(keras):
    for lib in (ember, keras):
        source = lib.Input((None, 3), dtype="float32")
        inputs = lib.Input(tensor=source, name="wrapped")
        assert inputs is source  # Keras returns the tensor itself, now produced by the new InputLayer
        model = lib.Model(inputs, lib.layers.Dense(2)(inputs))
        assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
        assert tuple(model(np.ones((2, 5, 3), "float32")).shape) == (2, 5, 2)
        with pytest.raises(ValueError, match="shape"):
            lib.Input(shape=(4,), tensor=lib.Input((3,)))
        with pytest.raises(ValueError, match="dtype"):
            lib.Input(dtype="int32", tensor=lib.Input((3,)))


def test_input_refuses_concrete_tensor_as_keras(keras):
    for lib in (ember, keras):
        with pytest.raises(ValueError, match="ndarray"):
            lib.Input(tensor=np.zeros((2, 3), "float32"))
