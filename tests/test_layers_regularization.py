"""Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout, ActivityRegularization against Keras 3 (torch).

Random draws cannot match Keras's bit for bit, so the tests compare what is
determined: inference passes inputs through unchanged in both; in training
both produce the same structure (dropped units are 0, kept ones are
x / (1 - rate), the same sharing along noise-shape axes), the statistics
agree with the rate/stddev, gradients equal the applied mask, seeds repeat,
and configs, shapes and errors match Keras.
"""

import os

import numpy as np
import pytest

import ember
from ember import layers

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    return k


def _x(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=shape).astype("float32")


def _keep_pattern(y, x, rate):
    """Boolean keep-mask of a dropout output, asserting every unit is 0 or x / (1 - rate)."""
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=1e-6)
    return kept


@pytest.mark.parametrize(
    "name, config, shape",
    [
        ("Dropout", {"rate": 0.5}, (4, 6)),
        ("SpatialDropout1D", {"rate": 0.3}, (2, 5, 4)),
        ("SpatialDropout2D", {"rate": 0.3}, (2, 3, 3, 4)),
        ("GaussianNoise", {"stddev": 0.5}, (4, 6)),
        ("GaussianDropout", {"rate": 0.4}, (4, 6)),
        ("ActivityRegularization", {"l1": 0.1}, (4, 6)),
    ],
)
def test_inference_is_identity_as_in_keras(keras, name, config, shape):
    x = _x(shape)
    k = getattr(keras.layers, name)(**config)
    e = getattr(layers, name)(**config)
    takes_training = "training" in e._call_signature
    for training in (None, False) if takes_training else (None,):
        yk = np.asarray(k(x, training=training)) if training is not None else np.asarray(k(x))
        ye = e(x, training=training).numpy() if training is not None else e(x).numpy()
        np.testing.assert_array_equal(ye, yk)
        np.testing.assert_array_equal(ye, x)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_dropout_training_scale_matches_keras_and_rate(keras, rate):
    x = _x((200, 50))
    yk = np.asarray(keras.layers.Dropout(rate, seed=1)(x, training=True).cpu())
    ye = layers.Dropout(rate, seed=1)(x, training=True).numpy()
    kept_k = _keep_pattern(yk, x, rate)
    kept_e = _keep_pattern(ye, x, rate)
    # 10,000 draws: the kept fraction is within 4 standard deviations of 1 - rate for both
    tol = 4 * np.sqrt(rate * (1 - rate) / x.size)
    assert abs(kept_k.mean() - (1 - rate)) < tol
    assert abs(kept_e.mean() - (1 - rate)) < tol


def test_dropout_gradient_is_the_mask():
    x = ember.tensor(_x((6, 7)), requires_grad=True)
    y = layers.Dropout(0.5, seed=2)(x, training=True)
    up = np.random.default_rng(3).normal(size=(6, 7)).astype("float32")
    (y * ember.tensor(up)).sum().backward()
    mask = (y.numpy() != 0) / 0.5
    np.testing.assert_allclose(x.grad.numpy(), up * mask, rtol=1e-6)


def test_dropout_noise_shape_shares_draws_like_keras(keras):
    x = _x((4, 10, 6))
    yk = np.asarray(keras.layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=3)(x, training=True).cpu())
    ye = layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=3)(x, training=True).numpy()
    for y in (yk, ye):
        kept = _keep_pattern(y, x, 0.5)
        assert (kept == kept[:, :1, :]).all()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout2d_drops_whole_channels_like_keras(keras, data_format):
    x = _x((3, 4, 5, 6))
    yk = np.asarray(keras.layers.SpatialDropout2D(0.5, data_format=data_format, seed=0)(x, training=True).cpu())
    ye = layers.SpatialDropout2D(0.5, data_format=data_format, seed=0)(x, training=True).numpy()
    for y in (yk, ye):
        kept = _keep_pattern(y, x, 0.5)
        if data_format == "channels_last":
            assert (kept == kept[:, :1, :1, :]).all()
        else:
            assert (kept == kept[:, :, :1, :1]).all()


def test_spatial_dropout1d_drops_whole_channels_like_keras(keras):
    x = _x((4, 7, 8))
    yk = np.asarray(keras.layers.SpatialDropout1D(0.5, seed=0)(x, training=True).cpu())
    ye = layers.SpatialDropout1D(0.5, seed=0)(x, training=True).numpy()
    for y in (yk, ye):
        kept = _keep_pattern(y, x, 0.5)
        assert (kept == kept[:, :1, :]).all()


def test_rate_one_and_zero_like_keras(keras):
    x = _x((3, 4))
    for rate in (0.0, 1.0):
        yk = np.asarray(keras.layers.Dropout(rate)(x, training=True).cpu())
        ye = layers.Dropout(rate)(x, training=True).numpy()
        np.testing.assert_array_equal(ye, yk)


def test_seeds_repeat_and_draws_differ_between_calls():
    x = _x((20, 20))
    a, b = layers.Dropout(0.5, seed=42), layers.Dropout(0.5, seed=42)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())
    assert not np.array_equal(first, a(x, training=True).numpy())
    ember.random.seed(5)
    c = layers.GaussianNoise(0.1)(x, training=True).numpy()
    ember.random.seed(5)
    np.testing.assert_array_equal(c, layers.GaussianNoise(0.1)(x, training=True).numpy())


def test_gaussian_noise_statistics(keras):
    x = np.zeros((300, 100), "float32")
    yk = np.asarray(keras.layers.GaussianNoise(0.3, seed=1)(x, training=True).cpu())
    ye = layers.GaussianNoise(0.3, seed=1)(x, training=True).numpy()
    assert ye.dtype == yk.dtype == np.float32
    for y in (yk, ye):
        assert abs(y.mean()) < 4 * 0.3 / np.sqrt(y.size)
        assert abs(y.std() - 0.3) < 0.01


def test_gaussian_dropout_statistics_and_gradient(keras):
    rate = 0.3
    std = np.sqrt(rate / (1 - rate))
    x = np.ones((300, 100), "float32")
    yk = np.asarray(keras.layers.GaussianDropout(rate, seed=1)(x, training=True).cpu())
    xe = ember.tensor(x, requires_grad=True)
    ye_t = layers.GaussianDropout(rate, seed=1)(xe, training=True)
    ye = ye_t.numpy()
    for y in (yk, ye):
        assert abs(y.mean() - 1) < 4 * std / np.sqrt(y.size)
        assert abs(y.std() - std) < 0.02
    ye_t.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), ye, rtol=1e-6)  # d(x * noise)/dx = noise, here x = 1


def test_activity_regularization_loss_matches_keras(keras, torch=None):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    k = keras.layers.ActivityRegularization(l1=0.01, l2=0.02)
    k(x)
    e = layers.ActivityRegularization(l1=0.01, l2=0.02)
    np.testing.assert_array_equal(e(x).numpy(), x)
    assert len(e.losses) == len(k.losses) == 1
    np.testing.assert_allclose(float(e.losses[0].numpy()), float(k.losses[0]), rtol=1e-5)


CONFIG_CASES = [
    ("Dropout", {"rate": 0.3}),
    ("Dropout", {"rate": 0.5, "noise_shape": (None, 1, 4), "seed": 7}),
    ("SpatialDropout1D", {"rate": 0.2, "seed": 1}),
    ("SpatialDropout2D", {"rate": 0.2, "data_format": "channels_first"}),
    ("GaussianNoise", {"stddev": 0.1, "seed": 3}),
    ("GaussianDropout", {"rate": 0.1}),
    ("ActivityRegularization", {"l1": 0.1, "l2": 0.2}),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(keras, name, config):
    k = getattr(keras.layers, name)(**config).get_config()
    e = getattr(layers, name)(**config).get_config()
    assert set(e) == set(k)
    for key in set(k) - {"name", "dtype"}:
        assert e[key] == k[key], key
    assert getattr(layers, name).from_config(e).get_config() == e


def test_shapes_in_models(keras):
    for e_layer, k_layer, shape in [
        (layers.Dropout(0.5), keras.layers.Dropout(0.5), (3, 4)),
        (layers.SpatialDropout1D(0.5), keras.layers.SpatialDropout1D(0.5), (3, 4)),
        (layers.SpatialDropout2D(0.5), keras.layers.SpatialDropout2D(0.5), (3, 4, 2)),
        (layers.GaussianNoise(0.5), keras.layers.GaussianNoise(0.5), (7,)),
    ]:
        assert e_layer(ember.layers.Input(shape)).shape == tuple(k_layer(keras.Input(shape)).shape)
    model = ember.models.Sequential(
        [layers.Dense(4, input_shape=(3,)), layers.Dropout(0.5), layers.GaussianNoise(0.1), layers.Dense(2)]
    )
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert model.output_shape == (None, 2)


def test_masks_pass_through():
    x = ember.tensor(np.ones((2, 3, 4), "float32"))
    x._keras_mask = ember.tensor(np.array([[True, False, True], [False, True, True]]))
    for layer in (layers.Dropout(0.5), layers.GaussianNoise(0.1), layers.SpatialDropout1D(0.2)):
        for training in (True, False):
            np.testing.assert_array_equal(layer(x, training=training)._keras_mask.numpy(), x._keras_mask.numpy())


def test_keras2_p_spelling_and_errors():
    with pytest.warns(DeprecationWarning, match="`rate`"):
        layer = layers.Dropout(p=0.25)
    assert layer.rate == 0.25
    with pytest.raises(TypeError, match="rate"):
        layers.Dropout()
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(2.0)
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape="batch")
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(TypeError, match="seed"):
        layers.Dropout(0.5, seed="x")
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        layers.SpatialDropout1D(0.5)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"expected ndim=4"):
        layers.SpatialDropout2D(0.5)(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.5, data_format="nhwc")
