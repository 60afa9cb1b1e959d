"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) against Keras 3 (torch).

Outputs and input gradients for several shapes (equal, broadcast, lower rank),
masks (Keras's rules: OR of masks, masked entries deferring in Maximum /
Minimum / Multiply), output shapes in functional models, configs, the
functional aliases and errors.
"""

import os

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


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    # distinct values so maximum/minimum have no ties
    return [rng.normal(size=s).astype("float32") + 0.01 * i for i, s in enumerate(shapes)]


def _compare(k, e, xs, torch, masks=None):
    up_shape = None
    xts = [torch.tensor(x, requires_grad=True) for x in xs]
    xes = [ember.tensor(x, requires_grad=True) for x in xs]
    if masks is not None:
        for xt, xe, m in zip(xts, xes, masks):
            if m is not None:
                xt._keras_mask = torch.tensor(m)
                xe._keras_mask = ember.tensor(m)
    yk = k(xts)
    ye = e(xes)
    up_shape = tuple(yk.shape)
    assert tuple(ye.shape) == up_shape
    up = np.random.default_rng(9).normal(size=up_shape).astype("float32")
    (yk * torch.tensor(up)).sum().backward()
    (ye * ember.tensor(up)).sum().backward()
    np.testing.assert_allclose(ye.numpy(), yk.detach().numpy(), rtol=RTOL, atol=ATOL)
    for xe, xt in zip(xes, xts):
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    mk = getattr(yk, "_keras_mask", None)
    me = getattr(ye, "_keras_mask", None)
    assert (mk is None) == (me is None)
    if mk is not None:
        np.testing.assert_array_equal(me.numpy(), mk.numpy())
    return ye


ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
SHAPES = [
    [(4, 5), (4, 5)],
    [(2, 3, 4), (2, 3, 4), (2, 3, 4)],
    [(2, 3, 4), (2, 1, 4)],
    [(2, 3, 4), (2, 4)],
]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shapes", SHAPES)
def test_elementwise_merges_match_keras(keras, torch, name, shapes):
    if name == "Subtract" and len(shapes) != 2:
        pytest.skip("Subtract takes two inputs")
    _compare(getattr(keras.layers, name)(), getattr(layers, name)(), _arrays(shapes), torch)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_masks_merge_like_keras(keras, torch, name):
    xs = _arrays([(2, 3, 4), (2, 3, 4)])
    masks = [np.array([[1, 0, 1], [1, 1, 0]], bool), np.array([[0, 0, 1], [1, 0, 1]], bool)]
    _compare(getattr(keras.layers, name)(), getattr(layers, name)(), xs, torch, masks=masks)
    _compare(getattr(keras.layers, name)(), getattr(layers, name)(), xs, torch, masks=[masks[0], None])


@pytest.mark.parametrize(
    "axis, shapes",
    [
        (-1, [(2, 3), (2, 4)]),
        (1, [(2, 3, 4), (2, 5, 4)]),
        (-1, [(2, 3, 4), (2, 3, 1), (2, 3, 2)]),
        (0, [(2, 3), (1, 3)]),
    ],
)
def test_concatenate_matches_keras(keras, torch, axis, shapes):
    _compare(keras.layers.Concatenate(axis=axis), layers.Concatenate(axis=axis), _arrays(shapes), torch)


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate_masks_like_keras(keras, torch, axis):
    xs = _arrays([(2, 3, 4), (2, 3, 4)])
    masks = [np.array([[1, 0, 1], [0, 0, 1]], bool), None]
    _compare(keras.layers.Concatenate(axis=axis), layers.Concatenate(axis=axis), xs, torch, masks=masks)


@pytest.mark.parametrize(
    "axes, shapes",
    [
        (1, [(3, 4), (3, 4)]),
        (-1, [(2, 3, 4), (2, 5, 4)]),
        ((2, 1), [(2, 3, 4), (2, 4, 5)]),
        ((1, 1), [(2, 3, 4), (2, 3, 5)]),
        ((2, 1), [(2, 3, 4), (2, 4)]),
        ((1, 2), [(2, 4), (2, 3, 4)]),
        ((3, 1), [(2, 2, 3, 4), (2, 4, 5)]),
    ],
)
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_keras(keras, torch, axes, shapes, normalize):
    ye = _compare(
        keras.layers.Dot(axes, normalize=normalize), layers.Dot(axes, normalize=normalize), _arrays(shapes), torch
    )
    e_layer = layers.Dot(axes, normalize=normalize)
    k_layer = keras.layers.Dot(axes, normalize=normalize)
    in_shapes = [(None, *s[1:]) for s in shapes]
    expected = tuple(k_layer.compute_output_shape(in_shapes))
    assert e_layer.compute_output_shape(in_shapes) == expected
    assert ye.shape[1:] == expected[1:]


def test_functional_shapes_and_aliases(keras):
    a, b = ember.layers.Input((3, 4)), ember.layers.Input((3, 4))
    ka, kb = keras.Input((3, 4)), keras.Input((3, 4))
    pairs = [
        (layers.add, keras.layers.add, {}),
        (layers.subtract, keras.layers.subtract, {}),
        (layers.multiply, keras.layers.multiply, {}),
        (layers.average, keras.layers.average, {}),
        (layers.maximum, keras.layers.maximum, {}),
        (layers.minimum, keras.layers.minimum, {}),
        (layers.concatenate, keras.layers.concatenate, {"axis": 1}),
        (layers.dot, keras.layers.dot, {"axes": 2}),
        (layers.dot, keras.layers.dot, {"axes": (1, 1), "normalize": True}),
    ]
    outputs = []
    for e_fn, k_fn, kw in pairs:
        out = e_fn([a, b], **kw)
        assert out.shape == tuple(k_fn([ka, kb], **kw).shape)
        outputs.append(out)
    model = ember.models.Model([a, b], outputs)
    xs = _arrays([(2, 3, 4), (2, 3, 4)])
    k_model = keras.Model([ka, kb], [k_fn([ka, kb], **kw) for _, k_fn, kw in pairs])
    for ye, yk in zip(model.predict(xs, verbose=0), k_model.predict(xs, verbose=0)):
        np.testing.assert_allclose(ye, yk, rtol=RTOL, atol=ATOL)
    for layer, shapes in [(layers.Add(), [(None, 3, 4), (None, 4)]), (layers.Concatenate(), [(None, 3), (None, 5)])]:
        k_layer = getattr(keras.layers, type(layer).__name__)()
        assert layer.compute_output_shape(shapes) == tuple(k_layer.compute_output_shape(shapes))


@pytest.mark.parametrize(
    "name, config",
    [
        ("Add", {}),
        ("Multiply", {}),
        ("Concatenate", {"axis": 1}),
        ("Dot", {"axes": (1, 2), "normalize": True}),
        ("Dot", {"axes": 1}),
    ],
)
def test_get_config_matches_keras(keras, name, config):
    k = getattr(keras.layers, name)(**config).get_config()
    e = getattr(layers, name)(**config).get_config()
    assert set(e) == set(k)
    for key in set(k) - {"name", "dtype"}:
        assert e[key] == k[key], key
    assert getattr(layers, name).from_config(e).get_config() == e


def test_errors():
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([np.ones((2, 3), "float32"), np.ones((3, 3), "float32")])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([np.ones((2, 3), "float32")] * 3)
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate()([np.ones((2, 3, 4), "float32"), np.ones((2, 4, 4), "float32")])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(1)([np.ones((2, 3), "float32")] * 3)
    with pytest.raises(ValueError, match="axis values 3"):
        layers.Dot(1)([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])
    with pytest.raises(TypeError, match="axes"):
        layers.Dot("last")
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot((1, 2, 3))
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.add([ember.layers.Input((3,)), ember.layers.Input((4,))])


def test_dot_output_has_no_mask():
    x = ember.tensor(np.ones((2, 3, 4), "float32"))
    x._keras_mask = ember.tensor(np.ones((2, 3), bool))
    assert getattr(layers.Dot(2)([x, x]), "_keras_mask", None) is None
