"""Layers added for Keras's surface (3-D convolutions and pooling, transposed convolutions, group/unit/RMS
normalization, 3-D reshaping): forward, gradients, one fit and config against real Keras 3 (torch backend)."""

import os

import numpy as np
import pytest

import ember
from ember.layers.convolutional.conv3d import conv3d
from tests.oracles import check_gradients

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for these layers")


def _np(x):
    return np.asarray(x.detach().cpu()) if hasattr(x, "detach") else np.asarray(x)


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(b).max())))


RNG = np.random.default_rng(0)

CASES = [
    ("Conv3D", {"filters": 3, "kernel_size": 3}, (2, 6, 7, 5, 4)),
    ("Conv3D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 6, 7, 5, 4)),
    ("Conv3D", {"filters": 2, "kernel_size": (2, 3, 2), "strides": (2, 1, 2), "activation": "relu"}, (2, 6, 7, 5, 4)),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 6, 7, 5, 4)),
    ("Conv3D", {"filters": 4, "kernel_size": 2, "groups": 2}, (2, 6, 7, 5, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3}, (2, 7, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 4)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 4, "strides": 3, "output_padding": 1}, (2, 7, 4)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 7, 4)),
    ("Conv3DTranspose", {"filters": 3, "kernel_size": 3}, (2, 4, 5, 3, 3)),
    ("Conv3DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 5, 3, 3)),
    (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": (2, 3, 2), "strides": (3, 1, 2), "output_padding": (1, 0, 1)},
        (2, 4, 5, 3, 3),
    ),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 4, 5, 3, 3)),
    ("GroupNormalization", {"groups": 2}, (3, 5, 4)),
    ("GroupNormalization", {"groups": -1}, (3, 5, 6, 4)),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (3, 6, 4)),
    ("GroupNormalization", {"groups": 1, "center": False}, (3, 6, 4)),
    ("UnitNormalization", {}, (3, 5, 4)),
    ("UnitNormalization", {"axis": [1, 2]}, (3, 5, 4)),
    ("RMSNormalization", {}, (3, 5, 4)),
    ("RMSNormalization", {"axis": [1, 2]}, (3, 5, 4)),
    ("MaxPooling3D", {"pool_size": 2}, (2, 5, 7, 6, 3)),
    ("MaxPooling3D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 7, 6, 3)),
    ("MaxPooling3D", {"pool_size": (2, 3, 1), "strides": (1, 2, 1)}, (2, 5, 7, 6, 3)),
    ("AveragePooling3D", {"pool_size": 2}, (2, 5, 7, 6, 3)),
    ("AveragePooling3D", {"pool_size": (2, 3, 1), "strides": (1, 2, 1)}, (2, 5, 7, 6, 3)),
    ("AveragePooling3D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 7, 6, 3)),
    ("GlobalMaxPooling3D", {}, (2, 3, 4, 5, 3)),
    ("GlobalAveragePooling3D", {"keepdims": True}, (2, 3, 4, 5, 3)),
    ("UpSampling3D", {"size": (1, 2, 3)}, (2, 3, 4, 2, 3)),
    ("UpSampling3D", {"size": 2, "data_format": "channels_first"}, (2, 3, 4, 2, 3)),
    ("ZeroPadding3D", {"padding": ((1, 0), (0, 2), (3, 1))}, (2, 3, 4, 2, 3)),
    ("Cropping3D", {"cropping": (1, 0, 2)}, (2, 4, 5, 6, 3)),
    ("AdaptiveAveragePooling1D", {"output_size": 3}, (2, 7, 3)),
    ("AdaptiveMaxPooling1D", {"output_size": 4}, (2, 7, 3)),
    ("AdaptiveAveragePooling2D", {"output_size": (3, 2)}, (2, 7, 5, 3)),
    ("AdaptiveMaxPooling2D", {"output_size": (4, 3), "data_format": "channels_first"}, (2, 3, 7, 5)),
    ("AdaptiveAveragePooling3D", {"output_size": (2, 4, 3)}, (2, 5, 6, 7, 2)),
    ("AdaptiveMaxPooling3D", {"output_size": 2}, (2, 5, 6, 7, 2)),
    ("DepthwiseConv1D", {"kernel_size": 3}, (2, 9, 4)),
    ("DepthwiseConv1D", {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2}, (2, 9, 4)),
    ("DepthwiseConv1D", {"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 9, 4)),
    ("SeparableConv1D", {"filters": 5, "kernel_size": 3}, (2, 9, 4)),
    (
        "SeparableConv1D",
        {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2},
        (2, 9, 4),
    ),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "activation": "relu"}, (2, 9, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_forward_matches_keras(name, kwargs, shape):
    keras = _keras()
    x = (RNG.normal(size=shape) * 2 + 0.5).astype("float32")
    k = getattr(keras.layers, name)(**kwargs)
    e = getattr(ember.layers, name)(**kwargs)
    k(x)
    e(x)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    weights = [np.asarray(w) + RNG.normal(size=w.shape).astype("float32") * 0.3 for w in k.get_weights()]
    k.set_weights(weights)
    e.set_weights(weights)
    expected = _np(k(x))
    _close(e(x).numpy(), expected)
    assert tuple(e.compute_output_shape((None, *shape[1:]))) == (None, *expected.shape[1:])
    config = e.get_config()
    assert type(e).from_config(config).get_config() == config
    kconfig = {key: v for key, v in k.get_config().items() if key not in ("name", "dtype")}
    for key, value in kconfig.items():
        if key in config and isinstance(value, (int, float, str, tuple, list, bool)):
            assert config[key] == (list(value) if isinstance(config[key], list) else value), key


def test_average_pooling3d_same_averages_the_real_cells():
    # Keras's torch backend pads asymmetric "same" windows by replicating edge cells; Ember (as Keras's
    # TensorFlow and JAX backends) averages each window's real cells only
    x = RNG.normal(size=(1, 5, 4, 3, 2)).astype("float32")
    out = ember.layers.AveragePooling3D(pool_size=2, strides=2, padding="same")(x).numpy()
    expected = np.zeros((1, 3, 2, 2, 2), "float32")
    for d in range(3):
        for h in range(2):
            for w in range(2):
                expected[0, d, h, w] = x[0, 2 * d : 2 * d + 2, 2 * h : 2 * h + 2, 2 * w : 2 * w + 2].mean(
                    axis=(0, 1, 2)
                )
    _close(out, expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strides": (1, 1, 1), "padding": "valid", "dilation_rate": (1, 1, 1)},
        {"strides": (2, 1, 2), "padding": "same", "dilation_rate": (1, 1, 1)},
        {"strides": (1, 1, 1), "padding": "same", "dilation_rate": (2, 1, 1)},
    ],
)
def test_conv3d_gradients_match_finite_differences(kwargs):
    x = RNG.normal(size=(1, 4, 3, 3, 2))
    k = RNG.normal(size=(2, 2, 2, 2, 2))
    check_gradients(lambda a, b: conv3d(a, b, **kwargs), x, k)


@pytest.mark.parametrize("name", ["Conv3DTranspose", "Conv1DTranspose", "GroupNormalization", "MaxPooling3D"])
def test_layer_gradients_match_finite_differences(name):
    if name == "Conv3DTranspose":
        layer, shape = ember.layers.Conv3DTranspose(2, (2, 2, 2), strides=(2, 1, 2), dtype="float64"), (1, 2, 3, 2, 2)
    elif name == "Conv1DTranspose":
        layer, shape = ember.layers.Conv1DTranspose(2, 3, strides=2, padding="same", dtype="float64"), (2, 4, 3)
    elif name == "GroupNormalization":
        layer, shape = ember.layers.GroupNormalization(2, dtype="float64"), (2, 3, 4)
    else:
        layer, shape = ember.layers.MaxPooling3D(2, padding="same", dtype="float64"), (1, 3, 3, 3, 2)
    x = RNG.normal(size=shape)
    # the input gradient here; the weights' gradients are checked through fit against Keras below
    check_gradients(lambda inp: layer(inp), x)


def _volume_model(k):
    inp = k.Input((4, 6, 6, 2))
    x = k.layers.Conv3D(4, 3, padding="same", activation="relu")(inp)
    x = k.layers.GroupNormalization(2)(x)
    x = k.layers.MaxPooling3D(2)(x)
    x = k.layers.Conv3DTranspose(3, 2, strides=2)(x)
    x = k.layers.UnitNormalization()(x)
    x = k.layers.GlobalAveragePooling3D()(x)
    return k.Model(inp, k.layers.Dense(2)(x))


def _sequence_model(k):
    inp = k.Input((6, 3))
    x = k.layers.Conv1DTranspose(4, 3, strides=2, padding="same")(inp)
    x = k.layers.RMSNormalization()(x)
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model(inp, k.layers.Dense(2)(x))


@pytest.mark.parametrize("make,shape", [(_volume_model, (4, 4, 6, 6, 2)), (_sequence_model, (4, 6, 3))])
def test_fit_matches_keras_with_sgd(make, shape):
    keras = _keras()
    x = RNG.normal(size=shape).astype("float32")
    y = RNG.normal(size=(shape[0], 2)).astype("float32")
    kmodel, emodel = make(keras), make(ember)
    emodel.set_weights(kmodel.get_weights())
    kmodel.compile(keras.optimizers.SGD(0.05), "mse")
    emodel.compile(ember.optimizers.SGD(0.05), "mse")
    kmodel.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(emodel.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, _np(b), rtol=1e-4, atol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="groups"):
        ember.layers.GroupNormalization(groups=3)(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="output_padding"):
        ember.layers.Conv1DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="Cropping3D"):
        ember.layers.Cropping3D(2)(np.zeros((1, 3, 5, 5, 1), "float32"))


def test_alpha_dropout_keeps_mean_and_variance():
    x = RNG.normal(size=(4000, 50)).astype("float32")
    layer = ember.layers.AlphaDropout(0.2, seed=3)
    y = layer(x, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    # dropped units all take the same value a * alpha_p + b
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p**2)) ** -0.5
    dropped = np.isclose(y, a * alpha_p - a * alpha_p * 0.2, atol=1e-6)
    assert abs(dropped.mean() - 0.2) < 0.01
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert ember.layers.AlphaDropout.from_config(layer.get_config()).get_config() == layer.get_config()


def test_spatial_dropout3d_drops_whole_channels():
    y = ember.layers.SpatialDropout3D(0.5, seed=1)(np.ones((8, 2, 3, 2, 6), "float32"), training=True).numpy()
    per_map = y.reshape(8, -1, 6)
    assert np.all(per_map.std(axis=1) == 0)  # one draw per (example, channel)
    assert set(np.unique(y)) <= {0.0, 2.0}


def _stacked(k):
    inp = k.Input((6, 3))
    cells = [k.layers.LSTMCell(4), k.layers.GRUCell(3), k.layers.SimpleRNNCell(2)]
    out = k.layers.RNN(cells, return_sequences=True, return_state=True)(inp)
    return k.Model(inp, out)


def test_stacked_rnn_cells_match_keras_and_files_go_both_ways(tmp_path):
    keras = _keras()
    x = RNG.normal(size=(4, 6, 3)).astype("float32")
    kmodel, emodel = _stacked(keras), _stacked(ember)
    assert [w.shape for w in emodel.get_weights()] == [tuple(w.shape) for w in kmodel.get_weights()]
    emodel.set_weights(kmodel.get_weights())

    def flat(outs):
        return [np.asarray(o) for o in outs[:1]] + [np.asarray(s) for s in outs[1]] + [np.asarray(o) for o in outs[2:]]

    expected, got = kmodel.predict(x, verbose=0), emodel.predict(x, verbose=0)
    assert len(got) == len(expected) == 4  # output, [h, c] of the LSTM, the GRU's h, the SimpleRNN's h
    for a, b in zip(flat(got), flat(expected)):
        _close(a, b)
    kmodel.save(tmp_path / "k.keras")
    for a, b in zip(flat(ember.saving.load_model(tmp_path / "k.keras").predict(x, verbose=0)), flat(expected)):
        _close(a, b)
    emodel.save(tmp_path / "e.keras")
    for a, b in zip(flat(keras.saving.load_model(tmp_path / "e.keras").predict(x, verbose=0)), flat(got)):
        _close(a, b)


def test_wrapper_serialize_and_foreign_framework_layers():
    wrapper = ember.layers.Wrapper(ember.layers.Dense(2))
    assert wrapper(np.ones((1, 3), "float32")).shape == (1, 2)
    assert len(wrapper.trainable_weights) == 2
    again = ember.layers.Wrapper.from_config(wrapper.get_config())
    assert isinstance(again.layer, ember.layers.Dense) and again.layer.units == 2
    config = ember.layers.serialize(ember.layers.Conv1D(3, 2, name="c"))
    assert config["class_name"] == "Conv1D" and config["module"] == "keras.layers"
    layer = ember.layers.deserialize(config)
    assert isinstance(layer, ember.layers.Conv1D) and layer.filters == 3
    for name in ("JaxLayer", "FlaxLayer", "TFSMLayer", "TorchModuleWrapper"):
        with pytest.raises(NotImplementedError, match="Ember cannot run"):
            getattr(ember.layers, name)(None)


@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False, "logit_soft_cap": 2.0}, {"mask_zero": True}])
def test_reversible_embedding_matches_keras(kwargs):
    keras = _keras()
    ids = RNG.integers(0, 10, (3, 5))
    hidden = RNG.normal(size=(3, 5, 4)).astype("float32")
    k = keras.layers.ReversibleEmbedding(10, 4, **kwargs)
    e = ember.layers.ReversibleEmbedding(10, 4, **kwargs)
    k(ids)
    e(ids)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights(k.get_weights())
    _close(e(ids).numpy(), _np(k(ids)))
    _close(e(hidden, reverse=True).numpy(), _np(k(hidden, reverse=True)))
    assert set(e.get_config()) == set(k.get_config())
    assert (getattr(e(ids), "_keras_mask", None) is not None) == bool(kwargs.get("mask_zero"))
    assert getattr(e(hidden, reverse=True), "_keras_mask", None) is None


def test_pipeline_matches_keras_and_round_trips():
    keras = _keras()
    x = RNG.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    kp = keras.layers.Pipeline([keras.layers.Rescaling(1 / 255.0), keras.layers.CenterCrop(4, 4)])
    ep = ember.layers.Pipeline([ember.layers.Rescaling(1 / 255.0), ember.layers.CenterCrop(4, 4)])
    _close(ep(x).numpy(), _np(kp(x)))
    again = ember.layers.Pipeline.from_config(ep.get_config())
    _close(again(x).numpy(), ep(x).numpy())
    assert [type(layer).__name__ for layer in again.layers] == ["Rescaling", "CenterCrop"]


CONV_LSTM_CASES = [
    ("ConvLSTM2D", (2, 4, 6, 6, 3), {"filters": 4, "kernel_size": 3, "padding": "same", "return_sequences": True}),
    (
        "ConvLSTM2D",
        (2, 4, 7, 6, 3),
        {"filters": 2, "kernel_size": (3, 2), "strides": 2, "return_state": True, "go_backwards": True},
    ),
    ("ConvLSTM1D", (2, 4, 8, 3), {"filters": 3, "kernel_size": 3, "dilation_rate": 2}),
    ("ConvLSTM3D", (2, 3, 4, 4, 4, 2), {"filters": 2, "kernel_size": 2, "padding": "same"}),
]


@pytest.mark.parametrize("name,shape,kwargs", CONV_LSTM_CASES)
def test_conv_lstm_matches_keras(name, shape, kwargs):
    keras = _keras()
    x = RNG.normal(size=shape).astype("float32")
    k = getattr(keras.layers, name)(**kwargs)
    e = getattr(ember.layers, name)(**kwargs)
    k(x)
    e(x)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights([np.asarray(w) for w in k.get_weights()])
    expected, got = k(x), e(x)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    for a, b in zip(got, expected):
        _close(a.numpy(), _np(b))
    assert set(e.get_config()) == set(k.get_config())
    assert type(e).from_config(e.get_config()).get_config() == e.get_config()


def _next_frame(k):
    inp = k.Input((3, 6, 6, 2))
    x = k.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(inp)
    return k.Model(inp, k.layers.Conv3D(1, 3, padding="same", activation="sigmoid")(x))


def test_conv_lstm_fits_and_saves_as_keras(tmp_path):
    keras = _keras()
    x = RNG.normal(size=(4, 3, 6, 6, 2)).astype("float32")
    y = RNG.uniform(size=(4, 3, 6, 6, 1)).astype("float32")
    kmodel, emodel = _next_frame(keras), _next_frame(ember)
    emodel.set_weights(kmodel.get_weights())
    kmodel.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    emodel.compile(ember.optimizers.SGD(0.1), "binary_crossentropy")
    kmodel.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(emodel.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, _np(b), rtol=1e-4, atol=1e-5)
    kmodel.save(tmp_path / "k.keras")
    _close(ember.saving.load_model(tmp_path / "k.keras").predict(x, verbose=0), _np(kmodel.predict(x, verbose=0)))
    emodel.save(tmp_path / "e.keras")
    _close(_np(keras.saving.load_model(tmp_path / "e.keras").predict(x, verbose=0)), emodel.predict(x, verbose=0))


def test_spectral_normalization_matches_keras(tmp_path):
    keras = _keras()
    x = RNG.normal(size=(4, 5)).astype("float32")
    k = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=2)
    e = ember.layers.SpectralNormalization(ember.layers.Dense(3), power_iterations=2)
    k(x)
    e(x)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights([np.asarray(w) for w in k.get_weights()])
    for training in (False, True, True):
        _close(e(x, training=training).numpy(), _np(k(x, training=training)))
    for a, b in zip(e.get_weights(), k.get_weights()):
        _close(a, np.asarray(b))
    assert set(e.get_config()) == set(k.get_config())
    assert len(e.non_trainable_weights) == 1

    def make(kk):
        inp = kk.Input((6, 6, 3))
        return kk.Model(inp, kk.layers.SpectralNormalization(kk.layers.Conv2D(2, 3))(inp))

    images = RNG.normal(size=(2, 6, 6, 3)).astype("float32")
    kmodel = make(keras)
    kmodel.save(tmp_path / "k.keras")
    _close(
        ember.saving.load_model(tmp_path / "k.keras").predict(images, verbose=0), _np(kmodel.predict(images, verbose=0))
    )
    emodel = make(ember)
    emodel.save(tmp_path / "e.keras")
    _close(
        _np(keras.saving.load_model(tmp_path / "e.keras").predict(images, verbose=0)), emodel.predict(images, verbose=0)
    )
