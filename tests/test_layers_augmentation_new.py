"""Color augmentation layers against real Keras 3 (torch backend): on Keras's own draws (its
``get_random_transformation``) the images match; Ember's draws follow the same distributions."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, size=(4, 6, 5, 3)).astype("float32")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for these layers")


def _numpy(t):
    if isinstance(t, dict):
        return {k: _numpy(v) for k, v in t.items()}
    return np.asarray(t.detach()) if hasattr(t, "detach") else np.asarray(t)


CASES = [
    ("RandomBrightness", {"factor": 0.3}, 255.0),
    ("RandomBrightness", {"factor": (-0.2, 0.5), "value_range": (0, 1)}, 1.0),
    ("RandomContrast", {"factor": 0.5}, 255.0),
    ("RandomContrast", {"factor": (0.3, 0.6)}, 255.0),
    ("RandomGrayscale", {"factor": 0.5}, 255.0),
    ("RandomInvert", {"factor": 0.8}, 255.0),
    ("Solarization", {"addition_factor": 0.3, "threshold_factor": 0.6}, 255.0),
    ("RandomPosterization", {"factor": 6}, 255.0),
    ("RandomPosterization", {"factor": (2, 7), "value_range": (0, 1)}, 1.0),
    ("RandomColorDegeneration", {"factor": 0.7}, 255.0),
    ("RandomColorDegeneration", {"factor": (0.2, 0.9), "value_range": (0, 1)}, 1.0),
    ("RandomSaturation", {"factor": 0.8}, 255.0),
    ("RandomSaturation", {"factor": (0.1, 0.6), "value_range": (0, 1)}, 1.0),
    ("RandomHue", {"factor": 0.9}, 255.0),
    ("RandomHue", {"factor": (0.2, 0.5), "value_range": (0, 1)}, 1.0),
]


@pytest.mark.parametrize("name,kwargs,top", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_augmentation_matches_keras_on_its_draws(name, kwargs, top):
    keras = _keras()
    import torch

    images = IMAGES * (top / 255.0)
    k = getattr(keras.layers, name)(**kwargs)
    e = getattr(ember.layers, name)(**kwargs)
    for _ in range(3):
        drawn = k.get_random_transformation(torch.tensor(images), training=True)
        expected = _numpy(k.transform_images(torch.tensor(images), drawn, training=True))
        got = e._augment(ember.tensor(images), _numpy(drawn)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * top)
    # Ember's own draws: images of the same shape, unchanged at inference, config round trip
    assert e(images, training=True).shape == images.shape
    np.testing.assert_array_equal(e(images, training=False).numpy(), images)
    config = e.get_config()
    assert type(e).from_config(config).get_config() == config
    assert set(config) == set(k.get_config())


def test_factors_follow_keras_rules():
    keras = _keras()
    for name, factor in (
        ("RandomBrightness", 0.4),
        ("RandomContrast", 0.4),
        ("RandomInvert", 0.4),
        ("RandomPosterization", 5),
        ("RandomColorDegeneration", 0.4),
        ("RandomSaturation", 0.4),
        ("RandomHue", 0.4),
    ):
        assert tuple(getattr(ember.layers, name)(factor).factor) == tuple(getattr(keras.layers, name)(factor).factor)
    with pytest.raises(ValueError, match="factor"):
        ember.layers.RandomContrast(1.5)


def test_random_draws_are_in_range_and_seeded():
    layer = ember.layers.RandomBrightness(0.2, seed=4)
    deltas = np.concatenate([layer._draw(ember.tensor(IMAGES))["rgb_delta"].ravel() for _ in range(50)])
    assert deltas.min() >= -0.2 * 255 and deltas.max() <= 0.2 * 255 and deltas.std() > 10
    a = ember.layers.RandomContrast(0.5, seed=7)(IMAGES, training=True).numpy()
    b = ember.layers.RandomContrast(0.5, seed=7)(IMAGES, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    gray = ember.layers.RandomGrayscale(0.3, seed=1)
    share = np.mean([gray._draw(ember.tensor(IMAGES)).mean() for _ in range(200)])
    assert abs(share - 0.3) < 0.05


def test_auto_contrast_matches_keras():
    keras = _keras()
    images = IMAGES.copy()
    images[1, ..., 2] = 7.0  # a constant channel is left alone
    np.testing.assert_allclose(
        ember.layers.AutoContrast()(images).numpy(), _numpy(keras.layers.AutoContrast()(images)), rtol=1e-5, atol=1e-3
    )
