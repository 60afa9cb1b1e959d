"""Activation layers (Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax) against Keras 3 on the torch backend.

Each layer is built in both frameworks with the same weights; outputs, the
gradients of a weighted sum of the outputs (w.r.t. inputs and weights, torch
autograd on the Keras side), output shapes in functional and Sequential
models, configs, masks and errors are compared.
"""

import os
import warnings

import numpy as np
import pytest

import ember
from ember import layers

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    return k


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch differentiates the Keras side")


def _away_from_kinks(shape, seed=0, kinks=(0.0,)):
    x = np.random.default_rng(seed).normal(0.0, 2.0, size=shape).astype("float32")
    for k in kinks:
        x[np.abs(x - k) < 1e-2] = k + 0.05
    return x


def _compare(keras_layer, ember_layer, x, torch, kwargs=None, mask=None):
    """Same weights, same input: outputs and gradients (input and weights) must match."""
    kwargs = kwargs or {}
    keras_layer.build(x.shape)
    ember_layer.build(x.shape)
    ember_layer.set_weights(keras_layer.get_weights())
    up = np.random.default_rng(7).normal(size=x.shape).astype("float32")

    xt = torch.tensor(x, requires_grad=True)
    kkw = dict(kwargs)
    ekw = dict(kwargs)
    if mask is not None:
        kkw["mask"] = torch.tensor(mask)
        ekw["mask"] = ember.tensor(mask)
    yk = keras_layer(xt, **kkw)
    (yk * torch.tensor(up)).sum().backward()

    xe = ember.tensor(x, requires_grad=True)
    ye = ember_layer(xe, **ekw)
    (ye * ember.tensor(up)).sum().backward()

    np.testing.assert_allclose(ye.numpy(), yk.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL * 10)
    assert len(ember_layer.trainable_weights) == len(keras_layer.trainable_weights)
    for we, wk in zip(ember_layer.trainable_weights, keras_layer.trainable_weights):
        scale = np.abs(wk.value.grad.numpy()).max() + 1
        np.testing.assert_allclose(we.grad.numpy(), wk.value.grad.numpy(), rtol=RTOL, atol=ATOL * 10 * scale)
    return ye


CASES = [
    ("Activation", {"activation": "relu"}, (4, 5)),
    ("Activation", {"activation": "tanh"}, (4, 3, 5)),
    ("Activation", {"activation": "softmax"}, (4, 6)),
    ("Activation", {"activation": "gelu"}, (3, 5)),
    ("Activation", {"activation": "linear"}, (3, 5)),
    ("ReLU", {}, (4, 5)),
    ("ReLU", {"max_value": 1.5}, (4, 5)),
    ("ReLU", {"negative_slope": 0.1}, (4, 5)),
    ("ReLU", {"threshold": 0.5, "negative_slope": 0.2, "max_value": 3.0}, (4, 5)),
    ("LeakyReLU", {}, (4, 5)),
    ("LeakyReLU", {"negative_slope": 0.01}, (2, 3, 4)),
    ("ELU", {}, (4, 5)),
    ("ELU", {"alpha": 0.5}, (4, 5)),
    ("Softmax", {}, (4, 5)),
    ("Softmax", {"axis": 1}, (2, 3, 4)),
    ("Softmax", {"axis": [1, 2]}, (2, 3, 4)),
]


@pytest.mark.parametrize("name, config, shape", CASES)
def test_outputs_and_gradients_match_keras(keras, torch, name, config, shape):
    x = _away_from_kinks(shape, kinks=(0.0, 0.5, 1.5, 3.0))
    _compare(getattr(keras.layers, name)(**config), getattr(layers, name)(**config), x, torch)


@pytest.mark.parametrize(
    "config, shape",
    [
        ({}, (3, 4)),
        ({"shared_axes": [1]}, (2, 3, 4)),
        ({"shared_axes": [1, 2]}, (2, 3, 4, 5)),
        ({"shared_axes": 2}, (2, 3, 4)),
    ],
)
def test_prelu_weights_outputs_gradients(keras, torch, config, shape):
    k = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5, seed=3), **config)
    e = layers.PReLU(**config)
    x = _away_from_kinks(shape)
    _compare(k, e, x, torch)
    assert [w.shape for w in e.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.name for w in e.weights] == [w.name for w in k.weights]


def test_prelu_default_alpha_and_regularizer(keras):
    e = layers.PReLU(alpha_regularizer="l2")
    e.build((None, 4))
    np.testing.assert_array_equal(e.get_weights()[0], np.zeros(4, "float32"))
    e.set_weights([np.full(4, 0.5, "float32")])
    assert len(e.losses) == 1
    np.testing.assert_allclose(float(e.losses[0].numpy()), 0.01 * 4 * 0.25, rtol=1e-6)


@pytest.mark.parametrize("mask_shape", [(2, 5), (5,), (2, 1)])
def test_softmax_mask_matches_keras(keras, torch, mask_shape):
    x = _away_from_kinks((2, 5))
    mask = np.random.default_rng(1).random(mask_shape) > 0.4
    mask.flat[0] = True
    _compare(keras.layers.Softmax(), layers.Softmax(), x, torch, mask=mask)


def test_softmax_float_mask_and_bad_mask(keras, torch):
    x = _away_from_kinks((2, 4))
    mask = np.array([[1.0, 0.0, 0.7, 0.2], [0.0, 1.0, 1.0, 1.0]], "float32")
    _compare(keras.layers.Softmax(), layers.Softmax(), x, torch, mask=mask)
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((1, 2, 4), bool))


def test_softmax_uses_attached_mask_and_passes_it_on():
    x = ember.tensor(_away_from_kinks((2, 3)))
    x._keras_mask = ember.tensor(np.array([[True, False, True], [True, True, False]]))
    y = layers.Softmax()(x)
    assert y.numpy()[0, 1] == 0 and y.numpy()[1, 2] == 0
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(y._keras_mask.numpy(), x._keras_mask.numpy())


@pytest.mark.parametrize("name", ["Activation", "ReLU", "LeakyReLU", "ELU", "PReLU"])
def test_masks_pass_through(name):
    layer = getattr(layers, name)("relu") if name == "Activation" else getattr(layers, name)()
    x = ember.tensor(np.ones((2, 3, 4), "float32"))
    x._keras_mask = ember.tensor(np.array([[True, False, True], [False, True, True]]))
    assert layer.compute_mask(x, None) is x._keras_mask
    np.testing.assert_array_equal(layer(x)._keras_mask.numpy(), x._keras_mask.numpy())


CONFIG_CASES = [
    ("Activation", {"activation": "relu"}),
    ("Activation", {"activation": "softmax"}),
    ("ReLU", {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.2}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("PReLU", {"shared_axes": [1, 2]}),
    ("PReLU", {"alpha_regularizer": "l2", "alpha_constraint": "non_neg"}),
    ("ELU", {"alpha": 0.7}),
    ("Softmax", {"axis": [1, 2]}),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(keras, name, config):
    k = getattr(keras.layers, name)(**config).get_config()
    e = getattr(layers, name)(**config).get_config()
    assert set(e) == set(k)
    for key in set(k) - {"name", "dtype"}:
        assert e[key] == k[key], key
    rebuilt = getattr(layers, name).from_config(e)
    assert rebuilt.get_config() == e


def test_default_names_match_keras(keras):
    for name in ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        assert getattr(layers, name)().name.split("_")[0] == getattr(keras.layers, name)().name.split("_")[0]
    assert layers.PReLU().name.startswith("p_re_lu")


def test_shapes_in_functional_and_sequential_models(keras):
    cases = [
        (layers.PReLU(shared_axes=[1]), keras.layers.PReLU(shared_axes=[1]), (3, 4)),
        (layers.Softmax(axis=1), keras.layers.Softmax(axis=1), (3, 4)),
        (layers.ReLU(max_value=2.0), keras.layers.ReLU(max_value=2.0), (6,)),
    ]
    for e_layer, k_layer, shape in cases:
        e_out = e_layer(ember.layers.Input(shape))
        k_out = k_layer(keras.Input(shape))
        assert e_out.shape == tuple(k_out.shape)
        assert e_layer.compute_output_shape((None, *shape)) == tuple(k_layer.compute_output_shape((None, *shape)))
    e_model = ember.models.Sequential([layers.Dense(8, input_shape=(5,)), layers.PReLU(), layers.Activation("relu")])
    k_model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8), keras.layers.PReLU(), keras.layers.Activation("relu")]
    )
    assert e_model.count_params() == k_model.count_params() == 5 * 8 + 8 + 8
    assert e_model.output_shape == tuple(k_model.output_shape)


def test_keras2_alpha_spelling_warns():
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.LeakyReLU(0.2)


def test_invalid_arguments_and_inputs():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="threshold"):
        layers.ReLU(threshold=None)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(negative_slope=-1)
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=[0]).build((None, 3))
    prelu = layers.PReLU()
    prelu.build((None, 3, 4))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        prelu(np.ones((2, 4), "float32"))
    shared = layers.PReLU(shared_axes=[1])
    shared.build((None, 3, 4))
    with pytest.raises(ValueError, match="axis 2"):
        shared(np.ones((2, 5, 5), "float32"))
    shared(np.ones((2, 7, 4), "float32"))  # the shared axis may vary
