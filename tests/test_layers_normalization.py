"""BatchNormalization and LayerNormalization against Keras 3 (torch backend).

Same weights in both; outputs and gradients (inputs, gamma, beta) in training
and inference, moving statistics after several training steps, masks,
frozen layers, weight order/shapes, configs, model shapes and errors.
"""

import os

import numpy as np
import pytest

import ember
from ember import layers

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-5


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    return k


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch differentiates the Keras side")


def _data(shape, seed=0, loc=1.0, scale=2.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape).astype("float32")


def _random_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for w in layer.get_weights():
        if "variance" in getattr(w, "name", ""):
            out.append(w)
        out.append(rng.uniform(0.5, 1.5, size=w.shape).astype("float32"))
    return out


def _run_both(k, e, x, torch, seed=2, **kwargs):
    """One call in each framework; returns (outputs, input grads, trainable-weight grads) for Keras and Ember."""
    up = np.random.default_rng(seed).normal(size=x.shape).astype("float32")
    kkw = {key: torch.tensor(v) if isinstance(v, np.ndarray) else v for key, v in kwargs.items()}
    ekw = {key: ember.tensor(v) if isinstance(v, np.ndarray) else v for key, v in kwargs.items()}
    for w in k.trainable_weights:
        w.value.grad = None
    xt = torch.tensor(x, requires_grad=True)
    yk = k(xt, **kkw)
    (yk * torch.tensor(up)).sum().backward()
    for w in e.trainable_weights:
        w.zero_grad()
    xe = ember.tensor(x, requires_grad=True)
    ye = e(xe, **ekw)
    (ye * ember.tensor(up)).sum().backward()
    keras_side = (yk.detach().numpy(), xt.grad.numpy(), [w.value.grad.numpy() for w in k.trainable_weights])
    ember_side = (ye.numpy(), xe.grad.numpy(), [w.grad.numpy() for w in e.trainable_weights])
    return keras_side, ember_side


def _assert_same(keras_side, ember_side):
    (yk, gk, wk), (ye, ge, we) = keras_side, ember_side
    np.testing.assert_allclose(ye, yk, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ge, gk, rtol=RTOL, atol=ATOL * (1 + np.abs(gk).max()))
    assert len(we) == len(wk)
    for a, b in zip(we, wk):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * (1 + np.abs(b).max()))


def _pair(k, e, shape):
    k.build(shape)
    e.build(shape)
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.5, 1.5, size=w.shape).astype("float32") for w in k.get_weights()]
    k.set_weights(weights)
    e.set_weights(weights)
    return k, e


BN_CASES = [
    ({}, (8, 5)),
    ({"axis": 1}, (4, 3, 5, 5)),
    ({"axis": -1, "momentum": 0.9, "epsilon": 1e-2}, (4, 5, 5, 3)),
    ({"center": False}, (6, 4)),
    ({"scale": False}, (6, 4)),
    ({"center": False, "scale": False}, (6, 2, 4)),
]


@pytest.mark.parametrize("config, shape", BN_CASES)
def test_batch_norm_training_steps_match_keras(keras, torch, config, shape):
    k, e = _pair(keras.layers.BatchNormalization(**config), layers.BatchNormalization(**config), shape)
    assert [w.name for w in e.weights] == [w.name for w in k.weights]
    assert [w.shape for w in e.weights] == [tuple(w.shape) for w in k.weights]
    for step in range(3):
        x = _data(shape, seed=10 + step)
        keras_side, ember_side = _run_both(k, e, x, torch, seed=step, training=True)
        _assert_same(keras_side, ember_side)
        for we, wk in zip(e.get_weights(), k.get_weights()):
            np.testing.assert_allclose(we, wk, rtol=1e-6, atol=1e-6)
    x = _data(shape, seed=99)
    keras_side, ember_side = _run_both(k, e, x, torch, training=False)
    _assert_same(keras_side, ember_side)


def test_batch_norm_inference_by_default_and_frozen_layer(keras, torch):
    shape = (6, 4)
    k, e = _pair(keras.layers.BatchNormalization(), layers.BatchNormalization(), shape)
    before = e.get_weights()
    x = _data(shape)
    _assert_same(*_run_both(k, e, x, torch))
    k.trainable = False
    e.trainable = False
    _assert_same(*_run_both(k, e, x, torch, training=True))
    for a, b in zip(e.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_masked_statistics_match_keras(keras, torch):
    shape = (3, 5, 4)
    k, e = _pair(keras.layers.BatchNormalization(), layers.BatchNormalization(), shape)
    mask = np.random.default_rng(4).random(shape[:2]) > 0.3
    x = _data(shape)
    _assert_same(*_run_both(k, e, x, torch, training=True, mask=mask))
    for we, wk in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(we, wk, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="one axis fewer"):
        e(x, training=True, mask=ember.tensor(np.ones(shape, bool)))


def test_batch_norm_in_a_model_fit_step_updates_moving_stats(keras):
    x = _data((16, 3))
    e = layers.BatchNormalization(momentum=0.5)
    model = ember.models.Sequential([layers.Input((3,)), e])
    model(ember.tensor(x), training=True)
    np.testing.assert_allclose(e.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    model.predict(x, verbose=0)
    np.testing.assert_allclose(e.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5, atol=1e-6)


LN_CASES = [
    ({}, (4, 6)),
    ({}, (2, 3, 6)),
    ({"axis": [1, 2]}, (2, 3, 4)),
    ({"axis": [-1, 1]}, (2, 3, 5, 4)),
    ({"axis": -1, "epsilon": 1e-5}, (3, 4, 2)),
    ({"center": False}, (4, 6)),
    ({"scale": False}, (4, 6)),
]


@pytest.mark.parametrize("config, shape", LN_CASES)
def test_layer_norm_matches_keras(keras, torch, config, shape):
    k, e = _pair(keras.layers.LayerNormalization(**config), layers.LayerNormalization(**config), shape)
    assert [w.name for w in e.weights] == [w.name for w in k.weights]
    assert [w.shape for w in e.weights] == [tuple(w.shape) for w in k.weights]
    assert e.axis == k.axis
    _assert_same(*_run_both(k, e, _data(shape), torch))


CONFIG_CASES = [
    ("BatchNormalization", {}),
    ("BatchNormalization", {"axis": 1, "momentum": 0.9, "epsilon": 1e-5, "center": False}),
    ("BatchNormalization", {"gamma_regularizer": "l2", "beta_constraint": "non_neg", "gamma_initializer": "zeros"}),
    ("LayerNormalization", {}),
    ("LayerNormalization", {"axis": [1, 2], "epsilon": 1e-6, "scale": False, "beta_regularizer": "l2"}),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(keras, name, config):
    k = getattr(keras.layers, name)(**config).get_config()
    e = getattr(layers, name)(**config).get_config()
    assert set(e) == set(k)
    for key in set(k) - {"name", "dtype"}:
        assert e[key] == k[key], key
    assert getattr(layers, name).from_config(e).get_config() == e


def test_shapes_and_param_counts_in_models(keras):
    for e_layer, k_layer, shape in [
        (layers.BatchNormalization(axis=1), keras.layers.BatchNormalization(axis=1), (3, 4, 4)),
        (layers.LayerNormalization(axis=[1, 2]), keras.layers.LayerNormalization(axis=[1, 2]), (3, 4)),
    ]:
        assert e_layer(ember.layers.Input(shape)).shape == tuple(k_layer(keras.Input(shape)).shape)
        assert [w.shape for w in e_layer.weights] == [tuple(w.shape) for w in k_layer.weights]
    e_model = ember.models.Sequential(
        [layers.Dense(8, input_shape=(5,)), layers.BatchNormalization(), layers.LayerNormalization()]
    )
    k_model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.LayerNormalization()]
    )
    assert e_model.count_params() == k_model.count_params()
    assert len(e_model.trainable_weights) == len(k_model.trainable_weights)
    assert len(e_model.non_trainable_weights) == len(k_model.non_trainable_weights)


def test_errors():
    bn = layers.BatchNormalization()
    bn.build((None, 4))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4"):
        bn(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2"):
        bn(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="out of bounds"):
        layers.BatchNormalization(axis=3).build((None, 4))
    with pytest.raises(ValueError, match="must be known"):
        layers.BatchNormalization().build((None, None))
    with pytest.raises(NotImplementedError, match="renorm"):
        layers.BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="out of bounds"):
        layers.LayerNormalization(axis=2).build((None, 4))
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="last")


def test_masks_pass_through():
    x = ember.tensor(_data((2, 3, 4)))
    x._keras_mask = ember.tensor(np.array([[True, False, True], [False, True, True]]))
    for layer in (layers.BatchNormalization(), layers.LayerNormalization()):
        np.testing.assert_array_equal(layer(x)._keras_mask.numpy(), x._keras_mask.numpy())


def test_layer_norm_over_a_middle_axis_against_numpy():
    # Keras's torch backend cannot normalise over a non-trailing axis alone; check the formula directly
    x = _data((3, 4, 2))
    e = layers.LayerNormalization(axis=1, epsilon=1e-5)
    y = e(x).numpy()
    mean, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-5, atol=1e-5)
