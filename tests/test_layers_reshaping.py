"""Reshaping layers against Keras 3 (torch backend): outputs, gradients, shapes, configs, errors."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the reshaping layers")
torch = pytest.importorskip("torch", reason="Keras's torch backend computes the reference gradients")

import ember  # noqa: E402
from ember import layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _close(actual, expected, what):
    expected = np.asarray(expected)
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


def _rand(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def compare_with_keras(name, config, x, seed=0):
    """The same layer in Keras and Ember: same output, same input gradient of ``sum(output * w)``, same shapes."""
    k_layer, e_layer = getattr(keras.layers, name)(**config), getattr(layers, name)(**config)
    xt = torch.tensor(x, requires_grad=True)
    k_out = k_layer(xt)
    w = np.random.default_rng(seed).standard_normal(tuple(k_out.shape)).astype("float32")
    (k_grad,) = torch.autograd.grad((k_out * torch.tensor(w)).sum(), [xt])
    xe = ember.tensor(x, requires_grad=True)
    e_out = e_layer(xe)
    assert e_out.shape == tuple(k_out.shape)
    _close(e_out.numpy(), k_out.detach().numpy(), "outputs")
    (e_out * ember.tensor(w)).sum().backward()
    _close(xe.grad.numpy(), k_grad.numpy(), "input gradient")
    assert tuple(e_layer.compute_output_shape(x.shape)) == tuple(k_layer.compute_output_shape(x.shape))
    assert e_layer.weights == []


CASES = [
    ("Flatten", {}, (3,)),
    ("Flatten", {}, (3, 4)),
    ("Flatten", {}, (2, 3, 4, 5)),
    ("Flatten", {}, (2, 3, 1, 4, 2)),
    ("Flatten", {"data_format": "channels_first"}, (2, 3, 4, 5)),
    ("Flatten", {"data_format": "channels_first"}, (2, 3)),
    ("Reshape", {"target_shape": (4, 3)}, (2, 12)),
    ("Reshape", {"target_shape": (-1, 2)}, (2, 3, 4)),
    ("Reshape", {"target_shape": (2, -1, 3)}, (2, 4, 3)),
    ("Permute", {"dims": (2, 1)}, (2, 3, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
    ("RepeatVector", {"n": 3}, (2, 5)),
    ("UpSampling1D", {}, (2, 4, 3)),
    ("UpSampling1D", {"size": 3}, (2, 4, 3)),
    ("UpSampling2D", {}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": (1, 3)}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": (3, 2), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": (3, 2), "interpolation": "bilinear"}, (2, 4, 3, 2)),
    ("UpSampling2D", {"size": (2, 1), "interpolation": "bilinear", "data_format": "channels_first"}, (1, 2, 3, 4)),
    ("UpSampling2D", {"size": 4, "interpolation": "bilinear"}, (1, 1, 2, 1)),
    ("ZeroPadding1D", {}, (2, 4, 3)),
    ("ZeroPadding1D", {"padding": (0, 3)}, (2, 4, 3)),
    ("ZeroPadding1D", {"padding": 2, "data_format": "channels_first"}, (2, 4, 3)),
    ("ZeroPadding2D", {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": 2}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": (1, 0)}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((0, 2), (3, 1))}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((0, 2), (3, 1)), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("Cropping1D", {}, (2, 5, 3)),
    ("Cropping1D", {"cropping": (0, 2)}, (2, 5, 3)),
    ("Cropping1D", {"cropping": 2}, (2, 5, 3)),
    ("Cropping2D", {}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": 1}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": (2, 0)}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": ((0, 2), (3, 1))}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": ((1, 0), (0, 2)), "data_format": "channels_first"}, (2, 3, 5, 6)),
]


@pytest.mark.parametrize("name, config, shape", CASES)
def test_matches_keras(name, config, shape):
    compare_with_keras(name, config, _rand(shape))


SYMBOLIC_CASES = [
    ("Flatten", {}, (None, 3, 4)),
    ("Flatten", {}, (None, None, 4)),
    ("Reshape", {"target_shape": (-1, 2)}, (None, 3, 4)),
    ("Reshape", {"target_shape": (-1, 2)}, (None, None, 4)),
    ("Permute", {"dims": (2, 1)}, (None, None, 4)),
    ("RepeatVector", {"n": 3}, (None, 5)),
    ("UpSampling1D", {"size": 3}, (None, None, 2)),
    ("UpSampling2D", {"size": (2, 3)}, (None, 4, None, 2)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (None, 4, 3)),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 1))}, (None, None, 5, 3)),
    ("Cropping1D", {"cropping": (1, 2)}, (None, 6, 3)),
    ("Cropping2D", {"cropping": ((1, 2), (0, 1))}, (None, 6, None, 3)),
]


@pytest.mark.parametrize("name, config, shape", SYMBOLIC_CASES)
def test_symbolic_shapes_match_keras(name, config, shape):
    expected = tuple(getattr(keras.layers, name)(**config)(keras.Input(shape[1:])).shape)
    assert tuple(getattr(layers, name)(**config)(ember.Input(shape[1:])).shape) == expected
    assert tuple(getattr(layers, name)(**config).compute_output_shape(shape)) == expected


def test_sequential_with_reshaping_layers_matches_keras():
    def build(lib):
        return lib.Sequential(
            [
                lib.Input((6,)),
                lib.layers.RepeatVector(4),
                lib.layers.Reshape((4, 3, 2)),
                lib.layers.ZeroPadding2D(((1, 0), (0, 1))),
                lib.layers.UpSampling2D((2, 1)),
                lib.layers.Cropping2D(((1, 1), (0, 1))),
                lib.layers.Permute((2, 1, 3)),
                lib.layers.Flatten(),
                lib.layers.Dense(3),
            ]
        )

    k_model, e_model = build(keras), build(ember)
    assert tuple(e_model.output_shape) == tuple(k_model.output_shape)
    assert e_model.count_params() == k_model.count_params()
    e_model.set_weights(k_model.get_weights())
    x = _rand((5, 6))
    _close(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0), "model predictions")


def _plain(config):
    out = {}
    for key, value in config.items():
        if key == "dtype":
            value = value["config"]["name"] if isinstance(value, dict) else value
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


CONFIG_CASES = [
    ("Flatten", {"name": "f"}),
    ("Reshape", {"target_shape": [2, -1], "name": "r"}),
    ("Permute", {"dims": [2, 1], "name": "p"}),
    ("RepeatVector", {"n": 4, "name": "rv"}),
    ("UpSampling1D", {"size": 3, "name": "u1"}),
    ("UpSampling2D", {"size": 3, "interpolation": "BILINEAR", "name": "u2"}),
    ("ZeroPadding1D", {"padding": 2, "name": "z1"}),
    ("ZeroPadding2D", {"padding": (1, 2), "name": "z2"}),
    ("Cropping1D", {"cropping": 3, "name": "c1"}),
    ("Cropping2D", {"cropping": 1, "data_format": "channels_first", "name": "c2"}),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(name, config):
    k_config = _plain(getattr(keras.layers, name)(**config).get_config())
    e_layer = getattr(layers, name)(**config)
    assert _plain(e_layer.get_config()) == k_config
    assert _plain(type(e_layer).from_config(e_layer.get_config()).get_config()) == k_config


def test_names_exist_in_keras():
    for name in layers.reshaping.__all__:
        assert hasattr(keras.layers, name), name


def test_errors():
    with pytest.raises(ValueError, match=r"reshape_bad.*\(3, 4\).*12 values.*target_shape=\(5, 2\)"):
        layers.Reshape((5, 2), name="reshape_bad")(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="target_shape=\\(5, -1\\)"):
        layers.Reshape((5, -1))(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="permutation"):
        keras.layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r'"permute_rank".*expected ndim=3, found ndim=4'):
        layers.Permute((2, 1), name="permute_rank")(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        keras.layers.RepeatVector(2)(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="integer"):
        layers.RepeatVector(2.0)
    with pytest.raises(ValueError, match="positive"):
        layers.UpSampling1D(0)
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubic-ish")
    with pytest.raises(ValueError, match="at least one cell"):
        layers.Cropping1D((2, 3))(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="at least one cell"):
        layers.Cropping2D(((1, 1), (2, 2)))(np.zeros((1, 5, 4, 2), "float32"))
    with pytest.raises(ValueError, match="smaller"):
        keras.layers.Cropping2D(((1, 1), (2, 2)))(torch.zeros(1, 5, 4, 2))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=">= 0"):
        layers.ZeroPadding1D(-1)


def test_keras1_spellings():
    with pytest.warns(DeprecationWarning, match="length"):
        assert layers.UpSampling1D(length=3).size == 3
    assert layers.ZeroPadding2D(dim_ordering="tf").data_format == "channels_last"
    assert layers.UpSampling2D(dim_ordering="th").data_format == "channels_first"
