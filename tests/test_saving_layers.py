"""Every layer family Ember has, through .keras files both ways with real Keras 3 (torch backend).

Each case builds a small Keras model; a layer the case names must exist in
Ember (a missing one fails the case: a layer never disappears silently).
"""

import os

import numpy as np
import pytest

import ember
from ember import saving

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="real Keras 3 is the oracle for the file formats")


def _case(needs, input_shape, make, dtype="float32"):
    return pytest.param(needs, input_shape, make, dtype, id="-".join(needs))


CASES = [
    _case(["Dense", "Dropout"], (6,), lambda ly: [ly.Dense(5, activation="relu"), ly.Dropout(0.5), ly.Dense(3)]),
    _case(["Activation"], (6,), lambda ly: [ly.Dense(4), ly.Activation("softplus")]),
    _case(
        ["ReLU", "LeakyReLU", "ELU", "Softmax"],
        (6,),
        lambda ly: [ly.Dense(4), ly.ReLU(max_value=2.0), ly.Dense(4), ly.LeakyReLU(0.1), ly.ELU(), ly.Softmax()],
    ),
    _case(["PReLU"], (6,), lambda ly: [ly.Dense(4), ly.PReLU(alpha_initializer="random_uniform")]),
    _case(["Conv1D"], (10, 3), lambda ly: [ly.Conv1D(4, 3, padding="same", activation="relu"), ly.Conv1D(2, 2)]),
    _case(["Conv2D"], (8, 8, 3), lambda ly: [ly.Conv2D(4, 3, strides=2, padding="same"), ly.Conv2D(2, 2)]),
    _case(["Conv2DTranspose"], (4, 4, 3), lambda ly: [ly.Conv2DTranspose(2, 3, strides=2)]),
    _case(["DepthwiseConv2D"], (6, 6, 3), lambda ly: [ly.DepthwiseConv2D(3, depth_multiplier=2)]),
    _case(["SeparableConv2D"], (6, 6, 3), lambda ly: [ly.SeparableConv2D(4, 3)]),
    _case(
        ["GaussianNoise", "GaussianDropout", "ActivityRegularization"],
        (6,),
        lambda ly: [ly.Dense(4), ly.GaussianNoise(0.1), ly.GaussianDropout(0.2), ly.ActivityRegularization(0.01)],
    ),
    _case(["SpatialDropout1D"], (10, 3), lambda ly: [ly.Conv1D(2, 3), ly.SpatialDropout1D(0.3)]),
    _case(
        ["MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D"],
        (8, 8, 3),
        lambda ly: [ly.Conv2D(4, 3), ly.MaxPooling2D(), ly.AveragePooling2D(2), ly.GlobalAveragePooling2D()],
    ),
    _case(
        ["MaxPooling1D", "GlobalMaxPooling1D"],
        (10, 3),
        lambda ly: [ly.Conv1D(4, 3), ly.MaxPooling1D(2), ly.GlobalMaxPooling1D()],
    ),
    _case(
        ["Flatten", "Reshape", "Permute", "RepeatVector"],
        (4, 3),
        lambda ly: [ly.Permute((2, 1)), ly.Flatten(), ly.RepeatVector(2), ly.Reshape((3, 8))],
    ),
    _case(
        ["ZeroPadding2D", "Cropping2D", "UpSampling2D"],
        (6, 6, 2),
        lambda ly: [ly.ZeroPadding2D(1), ly.Cropping2D(2), ly.UpSampling2D(2)],
    ),
    _case(["BatchNormalization"], (6,), lambda ly: [ly.Dense(4), ly.BatchNormalization()]),
    _case(["LayerNormalization"], (6,), lambda ly: [ly.Dense(4), ly.LayerNormalization()]),
    _case(["Embedding"], (5,), lambda ly: [ly.Embedding(10, 4), ly.Flatten()], dtype="int32"),
    _case(["SimpleRNN"], (5, 3), lambda ly: [ly.SimpleRNN(4, return_sequences=True), ly.SimpleRNN(2)]),
    _case(["LSTM"], (5, 3), lambda ly: [ly.LSTM(4)]),
    _case(["GRU"], (5, 3), lambda ly: [ly.GRU(4)]),
    _case(["Bidirectional", "LSTM"], (5, 3), lambda ly: [ly.Bidirectional(ly.LSTM(3))]),
    _case(["TimeDistributed"], (5, 3), lambda ly: [ly.TimeDistributed(ly.Dense(2))]),
    _case(
        ["EinsumDense", "Identity"],
        (5, 3),
        lambda ly: [ly.EinsumDense("abc,cde->abde", (None, 2, 4), bias_axes="de"), ly.Identity(), ly.Flatten()],
    ),
    _case(
        ["Conv3D", "GroupNormalization", "MaxPooling3D", "Conv3DTranspose", "GlobalAveragePooling3D"],
        (4, 4, 4, 2),
        lambda ly: [
            ly.Conv3D(4, 2, padding="same"),
            ly.GroupNormalization(2),
            ly.MaxPooling3D(2),
            ly.Conv3DTranspose(2, 2, strides=2),
            ly.GlobalAveragePooling3D(),
        ],
    ),
    _case(
        ["ZeroPadding3D", "Cropping3D", "UpSampling3D", "AveragePooling3D", "GlobalMaxPooling3D"],
        (3, 4, 4, 2),
        lambda ly: [
            ly.ZeroPadding3D(1),
            ly.Cropping3D((1, 0, 1)),
            ly.UpSampling3D(2),
            ly.AveragePooling3D(2),
            ly.GlobalMaxPooling3D(),
        ],
    ),
    _case(
        ["Conv1DTranspose", "UnitNormalization", "RMSNormalization"],
        (5, 3),
        lambda ly: [ly.Conv1DTranspose(4, 3, strides=2), ly.UnitNormalization(), ly.RMSNormalization()],
    ),
    _case(
        ["Resizing", "CenterCrop"],
        (8, 6, 3),
        lambda ly: [ly.Resizing(10, 9), ly.CenterCrop(7, 5), ly.Conv2D(2, 3), ly.Flatten()],
    ),
]


def _require(names):
    missing = [n for n in names if not hasattr(ember.layers, n)]
    if missing:
        pytest.fail(f"ember.layers has no {', '.join(missing)}: a layer this test covers has gone")


def _input(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "int32":
        return rng.integers(0, 10, size=(4, *shape)).astype("int32")
    return rng.normal(size=(4, *shape)).astype("float32")


def _randomize(model):
    # non-trivial weights everywhere (biases, BN statistics) so a mis-mapped weight shows
    rng = np.random.default_rng(42)
    for layer in model.layers:
        ws = layer.get_weights()
        layer.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in ws])


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(b).max())))


@pytest.mark.parametrize("needs,input_shape,make,dtype", CASES)
def test_keras_file_to_ember(tmp_path, needs, input_shape, make, dtype):
    _require(needs)
    kmodel = keras.Sequential([keras.Input(input_shape, dtype=dtype), *make(keras.layers)])
    _randomize(kmodel)
    path = str(tmp_path / "k.keras")
    kmodel.save(path)
    model = saving.load_model(path)
    x = _input(input_shape, dtype)
    _close(model.predict(x, verbose=0), np.asarray(kmodel.predict(x, verbose=0)))


@pytest.mark.parametrize("needs,input_shape,make,dtype", CASES)
def test_ember_file_to_keras(tmp_path, needs, input_shape, make, dtype):
    _require(needs)
    inp = ember.Input(shape=input_shape, dtype=dtype)
    x = inp
    for layer in make(ember.layers):
        x = layer(x)
    model = ember.Model(inp, x)
    _randomize(model)
    path = str(tmp_path / "e.keras")
    saving.save_model(model, path)
    kmodel = keras.saving.load_model(path)
    data = _input(input_shape, dtype)
    _close(np.asarray(kmodel.predict(data, verbose=0)), model.predict(data, verbose=0))
    # and Ember -> Ember keeps every weight exactly
    again = saving.load_model(path)
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_merge_layers_in_a_functional_graph(tmp_path):
    _require(["Add", "Concatenate", "Multiply"])
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    s = keras.layers.Add()([keras.layers.Dense(3)(a), keras.layers.Dense(3)(b)])
    c = keras.layers.Concatenate()([s, keras.layers.Multiply()([a, b])])
    kmodel = keras.Model([a, b], keras.layers.Dense(2)(c))
    path = str(tmp_path / "merge.keras")
    kmodel.save(path)
    model = saving.load_model(path)
    xs = [_input((4,), "float32", 1), _input((4,), "float32", 2)]
    _close(model.predict(xs, verbose=0), np.asarray(kmodel.predict(xs, verbose=0)))
