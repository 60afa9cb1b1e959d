"""The newer augmentation layers (RandomErasing, RandomSharpness, RandomGaussianBlur, RandomShear,
RandomColorJitter, MixUp, CutMix) against real Keras 3 (torch backend): on Keras's own draws (its
``get_random_transformation``) the images and labels match; Ember's own draws follow Keras's rules."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")

RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, size=(5, 9, 7, 3)).astype("float32")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for these layers")


def _numpy(t):
    if isinstance(t, dict):
        return {k: _numpy(v) for k, v in t.items()}
    return np.asarray(t.detach().cpu()) if hasattr(t, "detach") else np.asarray(t)


CASES = [
    ("RandomErasing", {}, 255.0),
    ("RandomErasing", {"factor": 0.6, "scale": (0.1, 0.5), "fill_value": 7.0}, 255.0),
    ("RandomErasing", {"fill_value": [0.1, 0.5, 0.9], "value_range": (0, 1)}, 1.0),
    ("RandomSharpness", {"factor": 0.9}, 255.0),
    ("RandomSharpness", {"factor": (0.1, 0.4), "value_range": (0, 1)}, 1.0),
    ("RandomGaussianBlur", {}, 255.0),
    ("RandomGaussianBlur", {"factor": 0.5, "kernel_size": (5, 5), "sigma": (0.3, 0.9)}, 255.0),
    ("RandomGaussianBlur", {"kernel_size": 5, "value_range": (0, 1)}, 1.0),
    ("RandomShear", {"x_factor": 0.3, "y_factor": 0.2}, 255.0),
    ("RandomShear", {"x_factor": (0.1, 0.5), "fill_mode": "constant", "fill_value": 3.0}, 255.0),
    ("RandomShear", {"y_factor": 0.4, "fill_mode": "wrap", "interpolation": "nearest"}, 255.0),
    ("RandomShear", {"x_factor": 0.2, "y_factor": 0.2, "fill_mode": "nearest"}, 255.0),
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
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * top)
    # Ember's own draws have Keras's keys and shapes
    ours = e._draw(ember.tensor(images))
    assert set(ours) == set(_numpy(drawn))
    for key, value in ours.items():
        assert np.shape(value) == np.shape(_numpy(drawn)[key]), key
    out = e(images, training=True)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_array_equal(e(images, training=False).numpy(), images)
    clone = type(e).from_config(e.get_config())
    assert clone.get_config() == e.get_config()


def test_channels_first_and_unbatched_inputs():
    for cls in (ember.layers.RandomErasing, ember.layers.RandomSharpness, ember.layers.RandomGaussianBlur):
        layer = cls(factor=1.0, seed=3) if cls is not ember.layers.RandomSharpness else cls(0.9, seed=3)
        first = cls.from_config({**layer.get_config(), "data_format": "channels_first"})
        last = layer(IMAGES, training=True).numpy()
        cf = first(np.transpose(IMAGES, (0, 3, 1, 2)), training=True).numpy()
        np.testing.assert_allclose(np.transpose(cf, (0, 2, 3, 1)), last, rtol=1e-6, atol=1e-4)
        assert layer(IMAGES[0], training=True).shape == IMAGES[0].shape


def test_erasing_draws_rectangles_of_the_scale():
    # factor=1.0 means a probability uniform in [0, 1] (Keras's rule); (1, 1) erases every image
    layer = ember.layers.RandomErasing(factor=(1.0, 1.0), scale=(0.1, 0.3), fill_value=0.0, seed=0)
    images = np.full((200, 20, 20, 1), 100.0, "float32")
    out = layer(images, training=True).numpy()[..., 0]
    for image in out:
        rows, cols = np.nonzero(image == 0.0)
        area = len(rows)
        assert area > 0
        # the erased pixels form one filled rectangle
        assert area == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        side_y, side_x = (rows.max() - rows.min() + 1) / 20, (cols.max() - cols.min() + 1) / 20
        assert np.sqrt(0.1) - 0.11 <= side_y <= np.sqrt(0.3) + 0.06
        assert np.sqrt(0.1) - 0.11 <= side_x <= np.sqrt(0.3) + 0.06
    never = ember.layers.RandomErasing(factor=0.0, seed=0)
    np.testing.assert_array_equal(never(images, training=True).numpy(), images)


def test_sharpness_half_is_identity_and_seed_repeats():
    layer = ember.layers.RandomSharpness(factor=(0.5, 0.5))
    np.testing.assert_allclose(layer(IMAGES, training=True).numpy(), IMAGES, rtol=1e-6)
    a = ember.layers.RandomGaussianBlur(factor=0.5, seed=11)(IMAGES, training=True).numpy()
    b = ember.layers.RandomGaussianBlur(factor=0.5, seed=11)(IMAGES, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="odd"):
        ember.layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match=r"range \[0.0, 1.0\]"):
        ember.layers.RandomSharpness(1.5)
    with pytest.raises(ValueError, match="fill_value"):
        ember.layers.RandomErasing(fill_value=[1, 2])
    with pytest.raises(ValueError, match=r"range \[0, 1.0\]"):
        ember.layers.RandomShear(x_factor=-0.2)
    with pytest.raises(ValueError, match="rank 3"):
        ember.layers.RandomErasing()(np.zeros((2, 3)))


JITTER = [
    {"brightness_factor": 0.2, "contrast_factor": 0.5, "saturation_factor": 0.6, "hue_factor": 0.3},
    {"contrast_factor": (0.1, 0.4), "hue_factor": 0.5, "value_range": (0, 1)},
    {"brightness_factor": (-0.3, 0.1)},
]


@pytest.mark.parametrize("kwargs", JITTER, ids=range(len(JITTER)))
def test_color_jitter_matches_keras_on_its_draws(kwargs):
    keras = _keras()
    import torch

    top = kwargs.get("value_range", (0, 255))[1]
    images = IMAGES * (top / 255.0)
    k = keras.layers.RandomColorJitter(**kwargs)
    e = ember.layers.RandomColorJitter(**kwargs)
    # Keras draws inside transform_images: record each step's draw as it happens
    drawn = {}
    for name in ("brightness", "contrast", "saturation", "hue"):
        sub = getattr(k, f"random_{name}")
        if sub is None:
            continue

        original = type(sub).get_random_transformation

        def recorder(*args, _sub=sub, _name=name, _draw=original, **kw):
            drawn[_name] = _draw(_sub, *args, **kw)
            return drawn[_name]

        sub.get_random_transformation = recorder
    expected = _numpy(k.transform_images(torch.tensor(images), None, training=True))
    assert set(drawn) == {name for name, _ in e._steps}
    got = e._augment(ember.tensor(images), {n: _numpy(d) for n, d in drawn.items()}).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4 * top)
    ours = e._draw(ember.tensor(images))
    assert set(ours) == set(drawn)
    np.testing.assert_array_equal(e(images, training=False).numpy(), images)
    assert ember.layers.RandomColorJitter.from_config(e.get_config()).get_config() == e.get_config()


def test_color_jitter_one_seed_repeats_and_none_is_identity():
    kwargs = {"brightness_factor": 0.2, "hue_factor": 0.3, "seed": 4}
    a = ember.layers.RandomColorJitter(**kwargs)(IMAGES, training=True).numpy()
    b = ember.layers.RandomColorJitter(**kwargs)(IMAGES, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, IMAGES)
    np.testing.assert_array_equal(ember.layers.RandomColorJitter()(IMAGES, training=True).numpy(), IMAGES)


MIXING = [("MixUp", {}), ("MixUp", {"alpha": 0.7}), ("CutMix", {}), ("CutMix", {"factor": (0.3, 0.8)})]


@pytest.mark.parametrize("name,kwargs", MIXING, ids=[f"{c[0]}-{i}" for i, c in enumerate(MIXING)])
def test_mixing_matches_keras_on_its_draws(name, kwargs):
    keras = _keras()
    import torch

    labels = np.eye(5, dtype="float32")[[0, 3, 1, 4, 2]]
    k = getattr(keras.layers, name)(**kwargs)
    e = getattr(ember.layers, name)(**kwargs)
    for _ in range(3):
        drawn = k.get_random_transformation(torch.tensor(IMAGES), training=True)
        want_images = _numpy(k.transform_images(torch.tensor(IMAGES), drawn, training=True))
        want_labels = _numpy(k.transform_labels(torch.tensor(labels), drawn, training=True))
        params = _numpy(drawn)
        np.testing.assert_allclose(e._augment(ember.tensor(IMAGES), params).numpy(), want_images, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(
            e._mix_labels(ember.tensor(labels), params).numpy(), want_labels, rtol=1e-5, atol=1e-6
        )
    ours = e._draw(ember.tensor(IMAGES))
    assert set(ours) == set(params)
    for key, value in ours.items():
        assert np.shape(value) == np.shape(params[key]), key
    out = e({"images": IMAGES, "labels": labels}, training=True)
    assert out["images"].shape == IMAGES.shape and out["labels"].shape == labels.shape
    np.testing.assert_allclose(out["labels"].numpy().sum(axis=1), 1.0, rtol=1e-5)
    unchanged = e({"images": IMAGES, "labels": labels}, training=False)
    np.testing.assert_array_equal(unchanged["images"].numpy(), IMAGES)
    assert type(e).from_config(e.get_config()).get_config() == e.get_config()


def test_mixing_semantics():
    labels = np.eye(5, dtype="float32")
    out = ember.layers.CutMix(seed=2)({"images": IMAGES, "labels": labels}, training=True)
    params = ember.layers.CutMix(seed=2)._draw(ember.tensor(IMAGES))
    # the same seed draws the same params: pixels in the box come from the permuted image, the label
    # mixes the two classes with the kept area's weight
    order, masks, weight = params["permutation_order"], params["batch_masks"], params["mix_weight"].reshape(-1)
    np.testing.assert_array_equal(out["images"].numpy(), np.where(masks, IMAGES[order], IMAGES))
    assert masks.any() and not masks.all()
    want = weight[:, None] * labels + (1 - weight[:, None]) * labels[order]
    np.testing.assert_allclose(out["labels"].numpy(), want, rtol=1e-6)
    cf = ember.layers.MixUp(seed=5, data_format="channels_first")(np.transpose(IMAGES, (0, 3, 1, 2)))
    cl = ember.layers.MixUp(seed=5)(IMAGES)
    np.testing.assert_allclose(np.transpose(cf.numpy(), (0, 2, 3, 1)), cl.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        ember.layers.MixUp(alpha=0)
    with pytest.raises(ValueError, match="bounding boxes"):
        ember.layers.MixUp()({"images": IMAGES, "bounding_boxes": {}})


EQUALIZE = [
    ((0, 255), 256, RNG.uniform(0, 255, size=(3, 8, 9, 3))),
    ((0, 1), 64, RNG.uniform(0, 1, size=(2, 5, 6, 3)) ** 3),
    ((0, 255), 256, np.round(RNG.uniform(0, 255, size=(2, 6, 6, 1)))),
    ((0, 255), 16, np.concatenate([np.full((1, 4, 4, 1), 7.0), RNG.uniform(0, 255, (1, 4, 4, 1))], axis=-1)),
]


@pytest.mark.parametrize("value_range,bins,images", EQUALIZE, ids=range(len(EQUALIZE)))
def test_equalization_matches_keras(value_range, bins, images):
    keras = _keras()
    import torch

    images = images.astype("float32")
    k = keras.layers.Equalization(value_range=value_range, bins=bins)
    e = ember.layers.Equalization(value_range=value_range, bins=bins)
    want = _numpy(k(torch.tensor(images)))
    np.testing.assert_allclose(e(images).numpy(), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e(images[0]).numpy(), _numpy(k(torch.tensor(images[0]))), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(e(images, training=False).numpy(), _numpy(k(torch.tensor(images), training=False)))
    assert ember.layers.Equalization.from_config(e.get_config()).get_config() == e.get_config()


def test_equalization_flattens_the_histogram():
    images = (RNG.uniform(0, 1, size=(1, 32, 32, 1)) ** 2 * 255).astype("float32")
    out = ember.layers.Equalization()(images).numpy()
    before = np.histogram(images, bins=4, range=(0, 256))[0] / images.size
    after = np.histogram(out, bins=4, range=(0, 256))[0] / out.size
    assert before.max() > 0.45 and before.min() < 0.15  # skewed towards dark
    assert after.min() > 0.2 and after.max() < 0.3  # about a quarter in each quarter
    constant = np.full((1, 4, 4, 2), 9.0, "float32")
    np.testing.assert_array_equal(ember.layers.Equalization()(constant).numpy(), constant)
    with pytest.raises(ValueError, match="bins"):
        ember.layers.Equalization(bins=1)


@pytest.mark.parametrize("max_number", [2, 3, 5])
def test_max_num_bounding_boxes_matches_keras(max_number):
    keras = _keras()
    import torch

    boxes = RNG.uniform(0, 10, size=(2, 3, 4)).astype("float32")
    labels = np.array([[1, 2, 3], [4, 5, 6]], "float32")
    for training in (True, False):
        k = keras.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")
        e = ember.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")
        kd = {
            "images": torch.tensor(IMAGES[:2]),
            "bounding_boxes": {"boxes": torch.tensor(boxes), "labels": torch.tensor(labels)},
        }
        want = k(kd, training=training)
        got = e({"images": IMAGES[:2], "bounding_boxes": {"boxes": boxes, "labels": labels}}, training=training)
        for key in ("boxes", "labels"):
            np.testing.assert_array_equal(got["bounding_boxes"][key].numpy(), _numpy(want["bounding_boxes"][key]))
        np.testing.assert_array_equal(np.asarray(got["images"]), IMAGES[:2])
    assert got["bounding_boxes"]["boxes"].shape == (2, max_number, 4)
    assert e.compute_output_shape({"bounding_boxes": {"boxes": (None, 7, 4), "labels": (None, 7)}}) == {
        "bounding_boxes": {"boxes": (None, max_number, 4), "labels": (None, max_number)}
    }
    assert ember.layers.MaxNumBoundingBoxes.from_config(e.get_config()).get_config() == e.get_config()


def test_max_num_bounding_boxes_errors():
    data = {"images": IMAGES[:1], "bounding_boxes": {"boxes": np.zeros((1, 2, 4)), "labels": np.zeros((1, 2))}}
    with pytest.raises(ValueError, match="bounding_box_format"):
        ember.layers.MaxNumBoundingBoxes(3)(data)
    data["bounding_boxes"]["scores"] = np.zeros((1, 2))
    with pytest.raises(KeyError, match="scores"):
        ember.layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(data)
    np.testing.assert_array_equal(ember.layers.MaxNumBoundingBoxes(3)(IMAGES).numpy(), IMAGES)


STFT_CASES = [
    {},
    {"mode": "magnitude", "frame_length": 64, "frame_step": 16},
    {"mode": "psd", "frame_length": 50, "fft_length": 64, "padding": "same"},
    {"mode": "stft", "expand_dims": True, "frame_length": 32, "window": "hamming", "periodic": True},
    {"mode": "angle", "frame_length": 32, "scaling": "spectrum"},
    {"mode": "real", "frame_length": 32, "data_format": "channels_first"},
    {"mode": "imag", "frame_length": 32, "data_format": "channels_first", "expand_dims": True},
    {"mode": "log", "frame_length": 40, "window": None, "scaling": None},
]


@pytest.mark.parametrize("kwargs", STFT_CASES, ids=range(len(STFT_CASES)))
def test_stft_spectrogram_matches_keras(kwargs):
    keras = _keras()
    import torch

    signal = RNG.normal(size=(2, 300, 2)).astype("float32")
    if kwargs.get("data_format") == "channels_first":
        signal = np.ascontiguousarray(np.transpose(signal, (0, 2, 1)))
    k = keras.layers.STFTSpectrogram(**kwargs)
    e = ember.layers.STFTSpectrogram(**kwargs)
    want = _numpy(k(torch.tensor(signal)))
    e.build(signal.shape)
    # the kernels start as initializers.STFT makes them; Keras's are computed in float32 (cosines of
    # angles up to 2*pi*frame_length, off by up to ~3e-6 absolute), so they agree to 1e-4 of the largest;
    # the layer's computation is then compared on Keras's own kernels
    for kw, kv in zip(e.weights, k.weights):
        np.testing.assert_allclose(np.asarray(kw), _numpy(kv.value), atol=1e-4 * np.abs(_numpy(kv.value)).max())
    e.set_weights([_numpy(w.value) for w in k.weights])
    got = e(signal).numpy()
    assert got.shape == want.shape == tuple(k.compute_output_shape(signal.shape))
    mode = kwargs.get("mode", "log")
    if mode == "log":  # compare magnitudes: log of a near-zero bin amplifies float32 rounding
        got, want = np.exp(got), np.exp(want)
    if mode == "angle":  # compare directions where the bin has energy (angles wrap at +-pi)
        real = ember.layers.STFTSpectrogram(**{**kwargs, "mode": "magnitude"})
        real.build(signal.shape)
        real.set_weights(e.get_weights())
        energy = real(signal).numpy() > 1e-3
        np.testing.assert_allclose(np.cos(got)[energy], np.cos(want)[energy], atol=1e-4)
        np.testing.assert_allclose(np.sin(got)[energy], np.sin(want)[energy], atol=1e-4)
        return
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    assert ember.layers.STFTSpectrogram.from_config(e.get_config()).get_config() == e.get_config()


def test_stft_spectrogram_errors():
    with pytest.raises(ValueError, match="frame_step"):
        ember.layers.STFTSpectrogram(frame_length=16, frame_step=32)
    with pytest.raises(ValueError, match="Output mode"):
        ember.layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="rank 3"):
        ember.layers.STFTSpectrogram(frame_length=16)(np.zeros((2, 100), "float32"))


MEL_CASES = [
    {},
    {"fft_length": 512, "sequence_stride": 128, "num_mel_bins": 40, "power_to_db": False},
    {"fft_length": 256, "sequence_length": 200, "sampling_rate": 8000, "min_freq": 50, "max_freq": 3000,
     "mag_exp": 1.0, "top_db": 40, "ref_power": 2.0},
]  # fmt: skip


@pytest.mark.parametrize("kwargs", MEL_CASES, ids=range(len(MEL_CASES)))
def test_mel_spectrogram_matches_keras(kwargs):
    keras = _keras()
    import torch

    from ember.layers.preprocessing.mel_spectrogram import linear_to_mel_weight_matrix

    audio = RNG.normal(size=(2, 4000)).astype("float32")
    k = keras.layers.MelSpectrogram(**kwargs)
    e = ember.layers.MelSpectrogram(**kwargs)
    # Keras spaces the filter edges with a float32 linspace; Ember's (NumPy's, float64 then rounded) differ
    # by up to ~3e-5 of the filters' peak of 1, which bounds the agreement below
    args = (e.num_mel_bins, e.fft_length // 2 + 1, e.sampling_rate, e.min_freq, e.max_freq)
    np.testing.assert_allclose(
        linear_to_mel_weight_matrix(*args), _numpy(k.linear_to_mel_weight_matrix(*args)), atol=5e-5
    )

    def close(got, want):
        if e.power_to_db:
            np.testing.assert_allclose(got, want, atol=3e-3)  # decibels: 3e-3 dB is 7e-4 relative power
        else:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())

    want = _numpy(k(torch.tensor(audio)))
    got = e(audio).numpy()
    assert got.shape == want.shape == tuple(k.compute_output_shape(audio.shape))
    close(got, want)
    close(e(audio[0]).numpy(), _numpy(k(torch.tensor(audio[0]))))
    assert ember.layers.MelSpectrogram.from_config(e.get_config()).get_config() == e.get_config()


def test_mel_spectrogram_finds_a_tone():
    rate = 8000
    t = np.arange(8000) / rate
    tone = np.sin(2 * np.pi * 1000.0 * t).astype("float32")
    layer = ember.layers.MelSpectrogram(fft_length=512, sequence_stride=256, sampling_rate=rate, num_mel_bins=64)
    out = layer(tone).numpy()
    peak = out.mean(axis=1).argmax()
    from ember.layers.preprocessing.mel_spectrogram import linear_to_mel_weight_matrix

    filters = linear_to_mel_weight_matrix(64, 257, rate, 20.0, 4000)
    assert filters[int(round(1000 / (rate / 2) * 256)), peak] > 0.5  # the loudest band is the one over 1 kHz
    with pytest.raises(ValueError, match="fft_length"):
        ember.layers.MelSpectrogram(fft_length=256, sequence_length=512)
