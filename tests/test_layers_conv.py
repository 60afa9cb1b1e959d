"""Convolution layers against Keras 3 (torch backend): outputs, gradients, weights, shapes, configs, errors."""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the convolution layers")
torch = pytest.importorskip("torch", reason="Keras's torch backend computes the reference gradients")

import ember  # noqa: E402
from ember import layers  # noqa: E402

# Keras's own noise: its advice against input_shape, and NumPy 2's __array__ copy notice
pytestmark = [
    pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
]


def _close(actual, expected, what):
    expected = np.asarray(expected)
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


def compare_with_keras(k_layer, e_layer, x, seed=0):
    """Build both layers on ``x``, copy Keras's weights into Ember's, compare outputs and gradients.

    The scalar loss is ``sum(output * w)`` for a fixed random ``w``; gradients are
    compared for the input and every trainable weight (in Keras's order).
    """
    x = np.asarray(x, dtype="float32")
    k_layer(torch.tensor(x))  # build
    e_layer(ember.tensor(x))
    k_weights = k_layer.get_weights()
    assert [w.shape for w in e_layer.get_weights()] == [w.shape for w in k_weights]
    assert [w.name for w in e_layer.weights] == [w.name for w in k_layer.weights]
    e_layer.set_weights(k_weights)

    xt = torch.tensor(x, requires_grad=True)
    k_out = k_layer(xt)
    w = np.random.default_rng(seed).standard_normal(tuple(k_out.shape)).astype("float32")
    k_params = [v.value for v in k_layer.trainable_weights]
    k_grads = torch.autograd.grad((k_out * torch.tensor(w)).sum(), [xt, *k_params])

    xe = ember.tensor(x, requires_grad=True)
    e_out = e_layer(xe)
    assert e_out.shape == tuple(k_out.shape)
    _close(e_out.numpy(), k_out.detach().numpy(), "outputs")
    (e_out * ember.tensor(w)).sum().backward()
    _close(xe.grad.numpy(), k_grads[0].numpy(), "input gradient")
    for var, kg in zip(e_layer.trainable_weights, k_grads[1:]):
        _close(var.grad.numpy(), kg.numpy(), f"gradient of {var.name}")
    return e_out


def _rand(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# ---- outputs and gradients ----------------------------------------------------------------

CONV2D_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=(2, 3), strides=(2, 1), padding="same", activation="relu"),
    dict(filters=5, kernel_size=3, strides=2, padding="same", use_bias=False),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", activation="tanh"),
    dict(filters=6, kernel_size=(1, 2), groups=3, strides=(1, 2)),
    dict(filters=4, kernel_size=4, strides=3, padding="valid"),
]


@pytest.mark.parametrize("config", CONV2D_CASES)
def test_conv2d_matches_keras(config):
    x = _rand((2, 7, 8, 6))
    compare_with_keras(keras.layers.Conv2D(**config), layers.Conv2D(**config), x)


CONV1D_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=2, strides=2, padding="same", activation="sigmoid"),
    dict(filters=2, kernel_size=3, padding="causal", dilation_rate=2),
    dict(filters=4, kernel_size=3, padding="causal", strides=2),
    dict(filters=4, kernel_size=1, groups=2, use_bias=False),
]


@pytest.mark.parametrize("config", CONV1D_CASES)
def test_conv1d_matches_keras(config):
    x = _rand((3, 9, 4))
    compare_with_keras(keras.layers.Conv1D(**config), layers.Conv1D(**config), x)


TRANSPOSE_CASES = [
    dict(filters=3, kernel_size=3),
    dict(filters=2, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=(3, 2), strides=(2, 3), padding="valid", activation="relu"),
    dict(filters=4, kernel_size=3, strides=2, padding="same", output_padding=1, use_bias=False),
    dict(filters=2, kernel_size=4, strides=3, padding="valid", output_padding=(2, 0)),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=2, kernel_size=2, strides=3, padding="valid"),
]


@pytest.mark.parametrize("config", TRANSPOSE_CASES)
def test_conv2d_transpose_matches_keras(config):
    x = _rand((2, 4, 5, 3))
    compare_with_keras(keras.layers.Conv2DTranspose(**config), layers.Conv2DTranspose(**config), x)


DEPTHWISE_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), depth_multiplier=2, strides=2, padding="same", activation="relu"),
    dict(kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
]


@pytest.mark.parametrize("config", DEPTHWISE_CASES)
def test_depthwise_conv2d_matches_keras(config):
    x = _rand((2, 7, 6, 3))
    compare_with_keras(keras.layers.DepthwiseConv2D(**config), layers.DepthwiseConv2D(**config), x)


SEPARABLE_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=5, kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same", activation="elu"),
    dict(filters=2, kernel_size=3, dilation_rate=(2, 1), use_bias=False),
]


@pytest.mark.parametrize("config", SEPARABLE_CASES)
def test_separable_conv2d_matches_keras(config):
    x = _rand((2, 8, 7, 3))
    compare_with_keras(keras.layers.SeparableConv2D(**config), layers.SeparableConv2D(**config), x)


def test_kernel_regularizer_loss_matches_keras():
    config = dict(filters=3, kernel_size=2, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1))
    e_config = dict(config, bias_regularizer=ember.regularizers.L1(0.1))
    k, e = keras.layers.Conv2D(**config), layers.Conv2D(**e_config)
    x = _rand((2, 4, 4, 2))
    k(torch.tensor(x))
    e(ember.tensor(x))
    e.set_weights([w + 0.5 for w in k.get_weights()])
    k.set_weights([w + 0.5 for w in k.get_weights()])
    k_loss = sum(float(t.detach()) for t in k.losses)
    e_loss = sum(float(t.numpy()) for t in e.losses)
    np.testing.assert_allclose(e_loss, k_loss, rtol=1e-5)


# ---- shapes, models, configs ---------------------------------------------------------------

SHAPE_CASES = [
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2), (None, 11, 10, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, padding="same", strides=2), (None, None, 10, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", strides=2), (None, 11, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, dilation_rate=3), (None, 13, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2), (None, 5, 6, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same", output_padding=1), (None, 5, 6, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same"), (None, None, None, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=3, padding="same"), (None, 8, None, 2)),
    ("SeparableConv2D", dict(filters=6, kernel_size=3, strides=2), (None, 9, 9, 3)),
]


@pytest.mark.parametrize("name, config, shape", SHAPE_CASES)
def test_output_shapes_match_keras(name, config, shape):
    expected = tuple(getattr(keras.layers, name)(**config).compute_output_shape(shape))
    assert tuple(getattr(layers, name)(**config).compute_output_shape(shape)) == expected
    inputs = ember.Input(shape[1:])
    out = getattr(layers, name)(**config)(inputs)
    assert tuple(out.shape) == expected
    k_out = getattr(keras.layers, name)(**config)(keras.Input(shape[1:]))
    assert tuple(k_out.shape) == expected


def _seed_cnn(lib, conv, pool, flatten):
    model = lib.Sequential()
    model.add(conv(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(conv(64, (3, 3), activation="relu"))
    model.add(pool(pool_size=(2, 2)))
    model.add(flatten())
    model.add(lib.layers.Dense(10, activation="softmax"))
    return model


def test_seed_cnn_params_and_predictions_match_keras():
    k_model = _seed_cnn(keras, keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.Flatten)
    e_model = _seed_cnn(ember, layers.Conv2D, layers.MaxPooling2D, layers.Flatten)
    assert e_model.count_params() == k_model.count_params() == 320 + 18496 + 92170
    assert [layer.count_params() for layer in e_model.layers] == [layer.count_params() for layer in k_model.layers]
    e_model.set_weights(k_model.get_weights())
    x = np.random.default_rng(3).random((4, 28, 28, 1)).astype("float32")
    _close(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0), "seed CNN predictions")


def test_functional_model_with_every_conv_layer():
    def build(lib):
        inputs = lib.Input((12, 12, 3))
        x = lib.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
        x = lib.layers.DepthwiseConv2D(3, depth_multiplier=2)(x)
        x = lib.layers.SeparableConv2D(5, 3, strides=2, padding="same")(x)
        x = lib.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
        return lib.Model(inputs, x)

    k_model, e_model = build(keras), build(ember)
    assert tuple(e_model.output.shape) == tuple(k_model.output.shape) == (None, 10, 10, 3)
    assert e_model.count_params() == k_model.count_params()
    e_model.set_weights(k_model.get_weights())
    x = _rand((2, 12, 12, 3))
    _close(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0), "functional conv model")


def _plain(config):
    """A config with Keras's DTypePolicy dict and tuples/lists reduced to comparable values."""
    out = {}
    for key, value in config.items():
        if key == "dtype":
            value = value["config"]["name"] if isinstance(value, dict) else value
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


CONFIG_CASES = [
    ("Conv1D", dict(filters=3, kernel_size=2, padding="causal", name="c1")),
    ("Conv2D", dict(filters=3, kernel_size=2, strides=(2, 1), groups=3, activation="relu", name="c2")),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, output_padding=1, name="ct")),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, use_bias=False, name="dw")),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, pointwise_initializer="he_normal", name="sc")),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(name, config):
    k_config = _plain(getattr(keras.layers, name)(**config).get_config())
    e_layer = getattr(layers, name)(**config)
    e_config = _plain(e_layer.get_config())
    assert e_config == k_config
    clone = type(e_layer).from_config(e_layer.get_config())
    assert _plain(clone.get_config()) == e_config


def test_aliases_are_keras_names():
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert issubclass(layers.Convolution2D, layers.Conv2D)
    assert issubclass(layers.Convolution1D, layers.Conv1D)
    for name in layers.convolutional.__all__:
        assert hasattr(keras.layers, name), name


# ---- Keras 1/2 spellings -----------------------------------------------------------------------


def test_convolution2d_keras1_positional_window():
    with pytest.warns(DeprecationWarning, match="nb_row"):
        old = layers.Convolution2D(8, 3, 5, border_mode="same", subsample=(2, 2), init="he_normal")
    new = layers.Conv2D(8, (3, 5), padding="same", strides=(2, 2), kernel_initializer="he_normal")
    assert (old.kernel_size, old.strides, old.padding) == (new.kernel_size, new.strides, new.padding)
    assert type(old.kernel_initializer) is type(new.kernel_initializer)
    with pytest.warns(DeprecationWarning):
        kw = layers.Convolution2D(nb_filter=4, nb_row=2, nb_col=3, bias=False, W_regularizer="l2")
    assert (kw.filters, kw.kernel_size, kw.use_bias) == (4, (2, 3), False)
    assert kw.kernel_regularizer is not None
    # the Keras 3 form is unchanged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert layers.Convolution2D(8, (3, 3), 2).strides == (2, 2)


def test_legacy_warnings_point_at_the_callers_line():
    with pytest.warns(DeprecationWarning) as record:
        layers.Convolution2D(4, 3, 3, border_mode="same")
        layers.Conv1D(nb_filter=4, filter_length=3)
        layers.MaxPooling1D(pool_length=2, border_mode="valid")
    assert len(record) == 6
    assert all(w.filename == __file__ for w in record), [w.filename for w in record]


def test_conv_keras2_keywords_and_conflicts():
    with pytest.warns(DeprecationWarning, match="border_mode"):
        layer = layers.Conv2D(nb_filter=4, kernel_size=3, border_mode="same", dim_ordering="tf")
    assert (layer.filters, layer.padding, layer.data_format) == (4, "same", "channels_last")
    with pytest.raises(TypeError, match="padding"), pytest.warns(DeprecationWarning):
        layers.Conv2D(4, 3, padding="same", border_mode="valid")
    with pytest.warns(DeprecationWarning, match="filter_length"):
        c1 = layers.Convolution1D(4, filter_length=3, subsample_length=2, input_dim=5, input_length=10)
    assert (c1.kernel_size, c1.strides) == ((3,), (2,))
    model = ember.Sequential([c1])
    assert tuple(model.output_shape) == (None, 4, 4)


# ---- errors --------------------------------------------------------------------------------------


def test_wrong_rank_is_explained():
    layer = layers.Conv2D(4, 3, name="conv_rank")
    with pytest.raises(ValueError, match=r"conv_rank.*expected min_ndim=4, found ndim=3.*\(2, 5, 5\)"):
        layer(np.zeros((2, 5, 5), "float32"))
    with pytest.raises(ValueError, match=r"ndim=5.*input_shape is the shape of one sample"):
        layers.Conv2D(4, 3)(np.zeros((2, 1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="min_ndim=4, found ndim=3"):  # Keras says the same
        keras.layers.Conv2D(4, 3)(torch.zeros(2, 5, 5))


def test_wrong_channels_after_build():
    layer = layers.Conv2D(4, 3, name="conv_ch")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"conv_ch.*axis -1.*value 3.*\(1, 5, 5, 2\)"):
        layer(np.zeros((1, 5, 5, 2), "float32"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="zero or negative"):
        layers.Conv2D(4, 5)(np.zeros((1, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        keras.layers.Conv2D(4, 5)(torch.zeros(1, 3, 3, 1))
    with pytest.raises(NotImplementedError, match="channels_first"):
        layers.Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups=2"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 3, 3))
    with pytest.raises(TypeError, match="kernel_size"):
        layers.Conv2D(4)
