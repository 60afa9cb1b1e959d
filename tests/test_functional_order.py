"""Functional models list their layers as Keras does: by depth from the outputs, ties in traversal order.

So ``model.layers``, ``get_weights()``/``set_weights()`` and ``summary()`` line up with Keras 3
(oracle: KERAS_BACKEND=torch) for branched graphs such as ResNet blocks.
"""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for the layer order")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _residual_net(lib):
    inputs = lib.Input((12, 12, 3), name="image")
    x = lib.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    # the shortcut is called first but is shallower than the main branch: Keras lists it after the main branch
    shortcut = lib.layers.Conv2D(16, 1, name="shortcut")(x)
    main = lib.layers.Conv2D(4, 1, name="a_reduce")(x)
    main = lib.layers.BatchNormalization(name="a_bn")(main)
    main = lib.layers.Activation("relu", name="a_relu")(main)
    main = lib.layers.Conv2D(16, 3, padding="same", name="a_expand")(main)
    x = lib.layers.Add(name="add")([main, shortcut])
    x = lib.layers.GlobalAveragePooling2D(name="gap")(x)
    extra = lib.Input((5,), name="extra")  # a second input joining near the end
    x = lib.layers.Concatenate(name="concat")([x, lib.layers.Dense(3, name="extra_dense")(extra)])
    outputs = lib.layers.Dense(2, name="head")(x)
    return lib.Model([inputs, extra], outputs)


def _names(model) -> list:
    # an unnamed Input's automatic name counts the inputs made so far in each framework's session
    return ["<input>" if type(layer).__name__ == "InputLayer" else layer.name for layer in model.layers]


def _copy_and_compare(model, oracle, inputs):
    assert _names(model) == _names(oracle)
    weights = oracle.get_weights()
    assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
    model.set_weights(weights)
    np.testing.assert_allclose(
        np.asarray(model.predict(inputs, verbose=0)), oracle.predict(inputs, verbose=0), rtol=1e-4, atol=1e-5
    )


def test_residual_block_layers_in_keras_order(keras):
    model, oracle = _residual_net(ember), _residual_net(keras)
    names = [layer.name for layer in model.layers]
    assert names.index("shortcut") > names.index("a_expand")  # depth, not call order
    assert names.index("extra") > names.index("add")  # the second input sits at its depth, not first
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 12, 12, 3)).astype("float32"), rng.normal(size=(2, 5)).astype("float32")]
    _copy_and_compare(model, oracle, x)


def test_shared_layer_takes_its_deepest_call(keras):
    def build(lib):
        a, b = lib.Input((4,), name="a"), lib.Input((4,), name="b")
        shared = lib.layers.Dense(4, name="shared")
        x = shared(a)
        x = lib.layers.Dense(4, name="mid")(x)
        y = shared(lib.layers.Add(name="sum")([x, b]))
        return lib.Model([a, b], lib.layers.Dense(1, name="out")(y))

    model, oracle = build(ember), build(keras)
    rng = np.random.default_rng(1)
    _copy_and_compare(model, oracle, [rng.normal(size=(3, 4)).astype("float32") for _ in range(2)])


@pytest.mark.slow
def test_resnet50_weights_copy_from_keras(keras):
    model = ember.applications.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False)
    oracle = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False)
    x = np.random.default_rng(2).normal(size=(2, 32, 32, 3)).astype("float32")
    _copy_and_compare(model, oracle, x)
