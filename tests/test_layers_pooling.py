"""Pooling layers against Keras 3 (torch backend): outputs, gradients, masks, shapes, configs, errors."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the pooling layers")
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


def compare_with_keras(k_layer, e_layer, x, k_kwargs=None, e_kwargs=None, seed=0):
    """Same input -> same output and same input gradient of ``sum(output * w)``."""
    xt = torch.tensor(x, requires_grad=True)
    k_out = k_layer(xt, **(k_kwargs or {}))
    w = np.random.default_rng(seed).standard_normal(tuple(k_out.shape)).astype("float32")
    (k_grad,) = torch.autograd.grad((k_out * torch.tensor(w)).sum(), [xt])
    xe = ember.tensor(x, requires_grad=True)
    e_out = e_layer(xe, **(e_kwargs or {}))
    assert e_out.shape == tuple(k_out.shape)
    _close(e_out.numpy(), k_out.detach().numpy(), "outputs")
    (e_out * ember.tensor(w)).sum().backward()
    _close(xe.grad.numpy(), k_grad.numpy(), "input gradient")
    assert e_layer.weights == [] and list(k_layer.weights) == []


def _same_pads(spatial, pool, strides):
    """TensorFlow's "same" padding per axis: (before, after), the odd cell after."""
    pads = []
    for size, k, s in zip(spatial, pool, strides):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


class ExcludePadAverage:
    """Average pooling with "same" padding that divides each window by its real cells, in torch.

    This is the rule of Keras's TensorFlow, JAX and NumPy backends. Keras's torch
    backend follows it only when the padding is symmetric; when the odd padding
    cell falls at the end it pads by repeating the edge value and counts it in
    the mean. Cases with asymmetric padding are therefore checked against this
    reference, built from torch's pooling on a zero-padded input.
    """

    weights = []

    def __init__(self, pool_size, strides):
        self.pool_size, self.strides = pool_size, strides

    def __call__(self, xt):
        rank = xt.ndim - 2
        pool = (self.pool_size,) * rank if isinstance(self.pool_size, int) else tuple(self.pool_size)
        strides = pool if self.strides is None else self.strides
        strides = (strides,) * rank if isinstance(strides, int) else tuple(strides)
        x = xt.movedim(-1, 1)
        pads = _same_pads(x.shape[2:], pool, strides)
        flat = [p for pair in reversed(pads) for p in pair]
        pool_fn = torch.nn.functional.avg_pool1d if rank == 1 else torch.nn.functional.avg_pool2d
        total = pool_fn(torch.nn.functional.pad(x, flat), pool, strides) * float(np.prod(pool))
        count = pool_fn(torch.nn.functional.pad(torch.ones_like(x), flat), pool, strides) * float(np.prod(pool))
        return (total / count).movedim(1, -1)


def _oracle(name, config, x):
    """Keras's layer, or the exclude-padding reference where Keras's torch backend departs from Keras's rule."""
    if name.startswith("Average") and config.get("padding") == "same":
        pool = config.get("pool_size", 2)
        rank = x.ndim - 2
        pool_t = (pool,) * rank if isinstance(pool, int) else tuple(pool)
        strides = config.get("strides") or pool_t
        strides = (strides,) * rank if isinstance(strides, int) else tuple(strides)
        if any(a != b for a, b in _same_pads(x.shape[1:-1], pool_t, strides)):
            return ExcludePadAverage(pool, config.get("strides"))
    return getattr(keras.layers, name)(**config)


POOL_CASES = [
    dict(pool_size=2),
    dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=3, strides=1),
    dict(pool_size=4, strides=3, padding="same"),
    dict(pool_size=2, strides=3),
    dict(pool_size=3, strides=1, padding="same"),
]

POOL_2D_CASES = [
    dict(),
    dict(pool_size=(2, 3), strides=(1, 2), padding="same"),
    dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=(3, 2), strides=1),
    dict(pool_size=2, strides=(3, 1), padding="valid"),
    dict(pool_size=(3, 5), strides=1, padding="same"),
]


@pytest.mark.parametrize("name", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("config", POOL_CASES)
def test_pooling_1d_matches_keras(name, config):
    x = _rand((3, 11, 4))
    compare_with_keras(_oracle(name, config, x), getattr(layers, name)(**config), x)


@pytest.mark.parametrize("name", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("config", POOL_2D_CASES)
def test_pooling_2d_matches_keras(name, config):
    if name == "AveragePooling2D" and "pool_size" not in config:
        config = dict(config, pool_size=(2, 2))  # Keras 3 has no default pool_size here
    x = _rand((2, 7, 8, 3))
    compare_with_keras(_oracle(name, config, x), getattr(layers, name)(**config), x)


def test_exclude_pad_reference_agrees_with_keras_where_keras_pads_symmetrically():
    x = _rand((2, 9, 3))
    config = dict(pool_size=3, strides=1, padding="same")
    k_out = keras.layers.AveragePooling1D(**config)(torch.tensor(x))
    ref = ExcludePadAverage(3, 1)(torch.tensor(x))
    _close(ref.numpy(), k_out.numpy(), "reference vs Keras")


GLOBAL = ["GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling2D"]


@pytest.mark.parametrize("name", GLOBAL)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_matches_keras(name, keepdims, data_format):
    x = _rand((3, 5, 6, 4) if name.endswith("2D") else (3, 6, 4))
    config = dict(keepdims=keepdims, data_format=data_format)
    k_layer, e_layer = getattr(keras.layers, name)(**config), getattr(layers, name)(**config)
    compare_with_keras(k_layer, e_layer, x)
    assert tuple(e_layer.compute_output_shape(x.shape)) == tuple(k_layer.compute_output_shape(x.shape))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_mask_matches_keras(keepdims, data_format):
    x = _rand((3, 6, 6))
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 1]], dtype=bool)
    config = dict(keepdims=keepdims, data_format=data_format)
    compare_with_keras(
        keras.layers.GlobalAveragePooling1D(**config),
        layers.GlobalAveragePooling1D(**config),
        x,
        k_kwargs={"mask": torch.tensor(mask)},
        e_kwargs={"mask": ember.tensor(mask)},
    )


def test_global_average_pooling_1d_after_masking_embedding_consumes_the_mask():
    layer = layers.GlobalAveragePooling1D()
    assert layer.supports_masking
    assert layer.compute_mask(None, ember.tensor(np.ones((2, 3), bool))) is None
    x = ember.tensor(_rand((2, 3, 4)))
    x._keras_mask = ember.tensor(np.array([[1, 0, 0], [1, 1, 0]], bool))
    out = layer(x)  # the mask attached to the input is used
    expected = np.stack([x.numpy()[0, :1].mean(0), x.numpy()[1, :2].mean(0)])
    _close(out.numpy(), expected, "masked mean")
    assert getattr(out, "_keras_mask", None) is None


SHAPE_CASES = [
    ("MaxPooling1D", dict(pool_size=3, strides=2), (None, 11, 3)),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (None, None, 3)),
    ("MaxPooling2D", dict(pool_size=(2, 3), padding="same"), (None, 9, 10, 3)),
    ("AveragePooling2D", dict(pool_size=2, strides=1), (None, 9, None, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (None, 9, None, 3)),
    ("GlobalAveragePooling1D", dict(), (None, None, 5)),
]


@pytest.mark.parametrize("name, config, shape", SHAPE_CASES)
def test_output_shapes_match_keras(name, config, shape):
    expected = tuple(getattr(keras.layers, name)(**config).compute_output_shape(shape))
    assert tuple(getattr(layers, name)(**config).compute_output_shape(shape)) == expected
    out = getattr(layers, name)(**config)(ember.Input(shape[1:]))
    assert tuple(out.shape) == expected


def _plain(config):
    out = dict(config)
    out["dtype"] = out["dtype"]["config"]["name"] if isinstance(out["dtype"], dict) else out["dtype"]
    return out


CONFIG_CASES = [
    ("MaxPooling1D", dict(name="p1")),
    ("MaxPooling2D", dict(pool_size=3, strides=(1, 2), padding="same", name="p2")),
    ("AveragePooling1D", dict(pool_size=4, name="p3")),
    ("AveragePooling2D", dict(pool_size=(2, 1), name="p4")),
    ("GlobalMaxPooling1D", dict(keepdims=True, name="g1")),
    ("GlobalAveragePooling2D", dict(data_format="channels_first", name="g2")),
]


@pytest.mark.parametrize("name, config", CONFIG_CASES)
def test_get_config_matches_keras(name, config):
    k_config = _plain(getattr(keras.layers, name)(**config).get_config())
    e_layer = getattr(layers, name)(**config)
    assert _plain(e_layer.get_config()) == k_config
    assert _plain(type(e_layer).from_config(e_layer.get_config()).get_config()) == k_config


def test_aliases_and_names():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.MaxPool1D is layers.MaxPooling1D
    assert layers.AvgPool2D is layers.AveragePooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    for name in layers.pooling.__all__:
        assert hasattr(keras.layers, name), name
    assert layers.MaxPooling2D().pool_size == keras.layers.MaxPooling2D().pool_size == (2, 2)
    assert layers.MaxPooling1D().pool_size == keras.layers.MaxPooling1D().pool_size == (2,)


def test_keras1_spellings():
    with pytest.warns(DeprecationWarning, match="pool_length"):
        layer = layers.MaxPooling1D(pool_length=3, stride=1, border_mode="same")
    assert (layer.pool_size, layer.strides, layer.padding) == ((3,), (1,), "same")
    with pytest.warns(DeprecationWarning, match="border_mode"):
        layer = layers.MaxPooling2D(pool_size=(2, 2), border_mode="valid", dim_ordering="tf")
    assert layer.data_format == "channels_last"


def test_errors():
    with pytest.raises(ValueError, match=r'"pool_rank".*expected ndim=4, found ndim=3.*\(2, 4, 4\)'):
        layers.MaxPooling2D(name="pool_rank")(np.zeros((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        keras.layers.MaxPooling2D()(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="zero or negative"):
        layers.MaxPooling2D(pool_size=3).compute_output_shape((None, 2, 2, 1))
    with pytest.raises(NotImplementedError, match="channels_first"):
        layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        layers.AveragePooling1D(2, padding="causal")
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(TypeError, match="pool_size"):
        layers.AveragePooling2D()
    with pytest.raises(ValueError, match="ndim=3"):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3), "float32"))
