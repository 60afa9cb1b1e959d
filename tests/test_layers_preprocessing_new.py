"""Resizing, CenterCrop, RandomCrop and Discretization against real Keras 3 (torch backend)."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for these layers")


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(b).max())))


RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, size=(2, 9, 7, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"height": 5, "width": 4},
        {"height": 12, "width": 15},
        {"height": 5, "width": 4, "interpolation": "nearest"},
        {"height": 12, "width": 15, "interpolation": "nearest"},
        {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
        {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "fill_value": 3.0},
        {"height": 6, "width": 6, "data_format": "channels_first"},
    ],
)
def test_resizing_matches_keras(kwargs):
    keras = _keras()
    _close(ember.layers.Resizing(**kwargs)(IMAGES).numpy(), np.asarray(keras.layers.Resizing(**kwargs)(IMAGES)))
    layer = ember.layers.Resizing(**kwargs)
    assert ember.layers.Resizing.from_config(layer.get_config()).get_config() == layer.get_config()


def test_resizing_is_differentiable():
    x = ember.tensor(IMAGES[:1, :4, :4, :1] / 255.0, requires_grad=True)
    ember.layers.Resizing(6, 3)(x).sum().backward()
    # every output cell is a convex mix of input cells: the gradients sum to the number of outputs
    np.testing.assert_allclose(x.grad.numpy().sum(), 18.0, rtol=1e-6)


def test_resizing_refuses_what_it_lacks():
    with pytest.raises(NotImplementedError, match="bicubic"):
        ember.layers.Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="Only one of"):
        ember.layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


@pytest.mark.parametrize("size", [(5, 4), (12, 4), (8, 7), (9, 7)])
def test_center_crop_matches_keras(size):
    keras = _keras()
    _close(ember.layers.CenterCrop(*size)(IMAGES).numpy(), np.asarray(keras.layers.CenterCrop(*size)(IMAGES)))
    assert ember.layers.CenterCrop(*size).compute_output_shape((None, 9, 7, 3)) == (None, *size, 3)


def test_random_crop_takes_windows_of_the_input():
    layer = ember.layers.RandomCrop(4, 3, seed=1)
    seen = set()
    for _ in range(30):
        out = layer(IMAGES, training=True).numpy()
        assert out.shape == (2, 4, 3, 3)
        hits = [
            (i, j)
            for i in range(9 - 4 + 1)
            for j in range(7 - 3 + 1)
            if np.array_equal(out, IMAGES[:, i : i + 4, j : j + 3])
        ]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) > 5  # the position varies
    # inference passes the images through unchanged, as Keras 3
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES)


def test_random_crop_of_a_small_input_matches_keras():
    keras = _keras()
    k = keras.layers.RandomCrop(12, 4)(IMAGES, training=True)
    _close(ember.layers.RandomCrop(12, 4)(IMAGES, training=True).numpy(), np.asarray(k))


@pytest.mark.parametrize("kwargs", [{"num_bins": 5}, {"num_bins": 4, "epsilon": 0.001}])
def test_discretization_adapt_matches_keras(kwargs):
    keras = _keras()
    data = RNG.normal(size=(1000,)).astype("float32")
    k = keras.layers.Discretization(**kwargs)
    for part in np.split(data, 4):  # Keras's adapt itself needs TensorFlow; its state updates do not
        k.update_state(part)
    k.finalize_state()
    e = ember.layers.Discretization(**kwargs)
    e.adapt(ember.data.Dataset.from_tensor_slices(data).batch(250))
    np.testing.assert_allclose(e.bin_boundaries, k.bin_boundaries, rtol=1e-6)


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_outputs_match_keras(mode):
    keras = _keras()
    x = RNG.normal(size=(4, 3)).astype("float32")
    x[0, 0] = 0.0  # on a boundary: goes to the bucket above, as numpy.digitize
    k = keras.layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5], output_mode=mode)
    e = ember.layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5], output_mode=mode)
    out = e(x)
    expected = np.asarray(k(x))
    assert str(out.dtype) == str(expected.dtype)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert e.compute_output_shape((4, 3)) == tuple(expected.shape)
    again = ember.layers.Discretization.from_config(e.get_config())
    np.testing.assert_array_equal(again(x).numpy(), expected)


def test_discretization_needs_boundaries():
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        ember.layers.Discretization()
    with pytest.raises(ValueError, match="adapt"):
        ember.layers.Discretization(num_bins=3)(np.zeros((2, 2), "float32"))
