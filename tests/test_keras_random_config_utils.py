"""keras.random, keras.config, keras.backend's dtype helpers, keras.utils and the STFT initializer on Ember.

Random draws are Ember's (not the numbers Keras would draw), so they are
checked for what Keras promises: reproducibility from a seed, a
``SeedGenerator`` that advances, ``seed=`` accepted everywhere, and the right
distribution (moments of large samples, within several standard errors).
Deterministic helpers are compared with Keras 3 (torch backend) where Keras
runs without TensorFlow, and with a direct NumPy construction otherwise.
"""

import os
import wave

import numpy as np
import pytest

import ember
import ember as keras_like

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


# ---- keras.random -------------------------------------------------------------------------------------------

DRAWS = {
    "normal": lambda seed: ember.random.normal((4, 3), seed=seed),
    "uniform": lambda seed: ember.random.uniform((4, 3), seed=seed),
    "truncated_normal": lambda seed: ember.random.truncated_normal((4, 3), seed=seed),
    "randint": lambda seed: ember.random.randint((4, 3), 0, 10, seed=seed),
    "shuffle": lambda seed: ember.random.shuffle(np.arange(12.0).reshape(4, 3), seed=seed),
    "dropout": lambda seed: ember.random.dropout(np.ones((4, 3), "float32"), 0.5, seed=seed),
    "categorical": lambda seed: ember.random.categorical(np.zeros((4, 3), "float32"), 5, seed=seed),
    "gamma": lambda seed: ember.random.gamma((4, 3), 2.0, seed=seed),
    "beta": lambda seed: ember.random.beta((4, 3), 2.0, 3.0, seed=seed),
    "binomial": lambda seed: ember.random.binomial((4, 3), 10, 0.3, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_every_function_takes_int_and_seed_generator_seeds(name):
    draw = DRAWS[name]
    a, b = draw(7).numpy(), draw(7).numpy()
    np.testing.assert_array_equal(a, b)  # an int seed repeats
    gen = ember.random.SeedGenerator(3)
    first, second = draw(gen).numpy(), draw(gen).numpy()
    again = draw(ember.random.SeedGenerator(3)).numpy()
    np.testing.assert_array_equal(first, again)  # a new generator from the same seed repeats the stream
    assert not np.array_equal(first, second) or name == "categorical"  # the generator advanced
    np.testing.assert_array_equal(draw(np.array([1, 2], "int32")).numpy(), draw((1, 2)).numpy())  # pair seeds


def test_seed_generator_is_keras_shaped():
    gen = ember.random.SeedGenerator(seed=5, name="g")
    assert gen.get_config() == {"seed": 5, "name": "g"}
    assert ember.random.SeedGenerator.from_config(gen.get_config()).initial_seed == 5
    assert isinstance(gen.next(), int) and gen.next() != gen.next()
    with pytest.raises(TypeError, match="seed must be an int"):
        ember.random.SeedGenerator(seed="x")
    with pytest.raises(TypeError, match="SeedGenerator"):
        ember.random.normal((2,), seed="not a seed")


def _close(sample, expected, std, n):
    assert abs(float(np.mean(sample)) - expected) < 6 * std / np.sqrt(n), (np.mean(sample), expected)


def test_distributions_have_the_right_moments():
    n = 200_000
    g = ember.random.SeedGenerator(11)
    _close(ember.random.normal((n,), 1.0, 2.0, seed=g).numpy(), 1.0, 2.0, n)
    _close(ember.random.uniform((n,), -1.0, 3.0, seed=g).numpy(), 1.0, 4 / np.sqrt(12), n)
    t = ember.random.truncated_normal((n,), 0.0, 1.0, seed=g).numpy()
    assert np.abs(t).max() <= 2.0 and abs(t.std() - 0.8796) < 0.01  # std of N(0,1) cut at +-2
    _close(ember.random.gamma((n,), 3.0, seed=g).numpy(), 3.0, np.sqrt(3.0), n)
    _close(ember.random.beta((n,), 2.0, 5.0, seed=g).numpy(), 2 / 7, np.sqrt(10 / (49 * 8)), n)
    _close(ember.random.binomial((n,), 10, 0.3, seed=g).numpy(), 3.0, np.sqrt(2.1), n)
    ints = ember.random.randint((n,), 2, 6, seed=g).numpy()
    assert ints.dtype == np.int32 and ints.min() == 2 and ints.max() == 5
    logits = np.log(np.array([[0.1, 0.6, 0.3]], "float32"))
    counts = np.bincount(ember.random.categorical(logits, n, seed=g).numpy().ravel(), minlength=3) / n
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.01)


def test_dropout_zeroes_at_the_rate_and_rescales():
    out = ember.random.dropout(np.ones((1000, 100), "float32"), 0.3, seed=1).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    shaped = ember.random.dropout(np.ones((50, 20), "float32"), 0.5, noise_shape=(50, 1), seed=2).numpy()
    assert all(len(set(row)) == 1 for row in shaped)  # one draw per row


def test_shuffle_permutes_along_the_axis():
    x = np.arange(20.0).reshape(5, 4)
    out = ember.random.shuffle(x, axis=1, seed=4).numpy()
    np.testing.assert_array_equal(np.sort(out, axis=1), x)


# ---- keras.config and keras.backend -------------------------------------------------------------------------


def test_config_settings():
    cfg = keras_like.config
    assert cfg.backend() == "ember"
    assert cfg.floatx() == "float32" and cfg.epsilon() == pytest.approx(1e-7)
    with pytest.raises(ValueError, match="bfloat16"):
        cfg.set_floatx("bfloat16")
    with pytest.raises(NotImplementedError, match="Ember"):
        cfg.set_backend("jax")
    cfg.set_backend("ember")
    assert cfg.dtype_policy().name == "float32"
    try:
        cfg.set_dtype_policy("float64")
        assert cfg.floatx() == "float64" and cfg.dtype_policy().compute_dtype == "float64"
        cfg.set_dtype_policy("mixed_float16")  # the global mixed policy leaves floatx alone
        assert cfg.dtype_policy().name == "mixed_float16" and cfg.floatx() == "float64"
    finally:
        cfg.set_dtype_policy("float32")
    for on, off, probe in (
        (cfg.enable_interactive_logging, cfg.disable_interactive_logging, cfg.is_interactive_logging_enabled),
        (cfg.enable_traceback_filtering, cfg.disable_traceback_filtering, cfg.is_traceback_filtering_enabled),
    ):
        off()
        assert probe() is False
        on()
        assert probe() is True
    assert cfg.is_nnx_enabled() is False
    cfg.set_max_epochs(3)
    assert cfg.max_epochs() == 3
    cfg.set_max_epochs(None)
    with pytest.raises(ValueError, match="positive int"):
        cfg.set_max_steps_per_epoch(0)


def test_flash_attention_setting_reaches_dot_product_attention():
    q = np.ones((1, 2, 1, 4), "float32")
    assert ember.config.is_flash_attention_enabled() is None
    try:
        ember.config.enable_flash_attention()
        with pytest.raises(ValueError, match="flash attention"):
            ember.ops.dot_product_attention(q, q, q)
        ember.ops.dot_product_attention(q, q, q, flash_attention=False)
    finally:
        ember.config.disable_flash_attention()
    ember.ops.dot_product_attention(q, q, q)


def test_backend_dtype_helpers_match_keras(keras):
    import itertools

    names = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]
    names += ["float16", "bfloat16", "float32", "float64", int, float]
    for a, b in itertools.combinations_with_replacement(names, 2):
        assert ember.backend.result_type(a, b) == keras.backend.result_type(a, b), (a, b)
    for d in (None, int, float, bool, np.float64, np.dtype("int16"), "float64", "uint8"):
        assert ember.backend.standardize_dtype(d) == keras.backend.standardize_dtype(d), d
    assert ember.backend.is_float_dtype("float16") and not ember.backend.is_float_dtype("int8")
    assert ember.backend.is_int_dtype("uint8") and not ember.backend.is_int_dtype("float32")
    x = ember.Input((3,))
    assert ember.backend.is_keras_tensor(x) and not ember.backend.is_keras_tensor(ember.ones(3))


# ---- keras.utils ---------------------------------------------------------------------------------------------


def test_timeseries_dataset_from_array_windows_and_targets():
    data = np.arange(40).reshape(20, 2)
    targets = np.arange(20) * 10
    ds = ember.utils.timeseries_dataset_from_array(
        data, targets, sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=2, start_index=1, end_index=18
    )
    windows, labels = zip(*list(ds))
    windows, labels = np.concatenate(windows), np.concatenate(labels)
    starts = 1 + np.arange(0, 17 - 3 * 2, 3)
    expected = np.stack([data[s : s + 8 : 2] for s in starts])
    np.testing.assert_array_equal(windows, expected)
    np.testing.assert_array_equal(labels, targets[starts])
    no_targets = list(ember.utils.timeseries_dataset_from_array(data, None, 5, batch_size=None))
    assert len(no_targets) == 16 and no_targets[0].shape == (5, 2)


def test_split_dataset_sizes_and_contents():
    x, y = np.arange(10), np.arange(10) * 2
    left, right = ember.utils.split_dataset((x, y), left_size=0.8)
    lx = np.array([a for a, _ in left])
    rx = np.array([a for a, _ in right])
    np.testing.assert_array_equal(lx, np.arange(8))
    np.testing.assert_array_equal(rx, [8, 9])
    left, right = ember.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    assert sorted(list(left) + list(right)) == list(range(10)) and len(list(right)) == 3
    with pytest.raises(ValueError, match="greater than 1"):
        ember.utils.split_dataset(x, left_size=0.7, right_size=0.6)


class _Batches(ember.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.epochs_ended = 0

    def __len__(self):
        return 3

    def __getitem__(self, i):
        x = np.full((4, 2), float(i), "float32")
        return x, x.sum(axis=1, keepdims=True)

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_pydataset_feeds_fit_and_gets_epoch_callbacks():
    data = _Batches(workers=2)
    assert data.workers == 2 and data.num_batches == 3 and ember.utils.Sequence is ember.utils.PyDataset
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and data.epochs_ended == 2


def _write_png(path, array):
    image = pytest.importorskip("PIL.Image", reason="Pillow reads and writes the test images")
    image.fromarray(array).save(path)


def test_image_dataset_from_directory_labels_and_split(tmp_path, keras):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(3):
            _write_png(tmp_path / name / f"{i}.png", rng.integers(0, 255, (10 + i, 12, 3), dtype=np.uint8))
    ds = ember.utils.image_dataset_from_directory(tmp_path, image_size=(6, 8), batch_size=4, shuffle=False)
    assert ds.class_names == ["cat", "dog"]
    batches = list(ds)
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
    assert images.shape == (6, 6, 8, 3) and images.dtype == np.float32
    first = np.asarray(ember.utils.load_img(tmp_path / "cat" / "0.png"), dtype="float32")
    expected = keras.ops.image.resize(first, (6, 8), data_format="channels_last")
    np.testing.assert_allclose(images[0], np.asarray(expected), rtol=1e-5, atol=1e-3)
    train, val = ember.utils.image_dataset_from_directory(
        tmp_path, image_size=(6, 8), label_mode="categorical", validation_split=0.34, subset="both", seed=3
    )
    n_train = sum(len(b[0]) for b in train)
    n_val = sum(len(b[0]) for b in val)
    assert (n_train, n_val) == (4, 2)
    assert next(iter(train))[1].shape[1] == 2


def test_text_and_audio_datasets_from_directory(tmp_path):
    for name in ("neg", "pos"):
        (tmp_path / "text" / name).mkdir(parents=True)
        (tmp_path / "audio" / name).mkdir(parents=True)
        for i in range(2):
            (tmp_path / "text" / name / f"{i}.txt").write_text(f"{name} review {i}")
            with wave.open(str(tmp_path / "audio" / name / f"{i}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes((np.arange(100 + 10 * i, dtype="<i2") * 100).tobytes())
    texts = ember.utils.text_dataset_from_directory(tmp_path / "text", batch_size=10, shuffle=False, max_length=7)
    strings, labels = next(iter(texts))
    assert list(strings) == ["neg rev", "neg rev", "pos rev", "pos rev"] and list(labels) == [0, 0, 1, 1]
    audio = ember.utils.audio_dataset_from_directory(tmp_path / "audio", batch_size=10, shuffle=False)
    clips, labels = next(iter(audio))
    assert clips.shape == (4, 110, 1) and clips.dtype == np.float32
    np.testing.assert_allclose(clips[1, :110, 0], np.arange(110) * 100 / 32768.0, rtol=1e-6)
    assert (clips[0, 100:] == 0).all()
    with pytest.raises(ValueError, match="does not resample"):
        ember.utils.audio_dataset_from_directory(tmp_path / "audio", sampling_rate=16000)


def test_image_array_round_trip(tmp_path):
    pytest.importorskip("PIL", reason="Pillow reads and writes the test images")
    arr = np.random.default_rng(1).integers(0, 255, (5, 7, 3)).astype("float32")
    img = ember.utils.array_to_img(arr, scale=False)
    np.testing.assert_array_equal(ember.utils.img_to_array(img), arr)
    ember.utils.save_img(tmp_path / "x.png", arr, scale=False)
    back = ember.utils.img_to_array(ember.utils.load_img(tmp_path / "x.png"))
    np.testing.assert_array_equal(back, arr)
    gray = ember.utils.load_img(tmp_path / "x.png", color_mode="grayscale", target_size=(3, 4))
    assert ember.utils.img_to_array(gray).shape == (3, 4, 1)
    assert ember.preprocessing.image.smart_resize(arr, (4, 4)).shape == (4, 4, 3)


def test_small_utils():
    cfg = ember.utils.Config(lr=0.1)
    cfg.momentum = 0.9
    cfg["seed"] = 1
    assert cfg.lr == 0.1 and cfg["momentum"] == 0.9 and len(cfg) == 3
    cfg.freeze()
    with pytest.raises(AttributeError, match="frozen"):
        cfg.lr = 1.0
    x = np.ones((2, 1))
    assert ember.utils.pack_x_y_sample_weight(x) is x
    assert ember.utils.pack_x_y_sample_weight(x, x) == (x, x)
    assert ember.utils.unpack_x_y_sample_weight(ember.utils.pack_x_y_sample_weight(x, x, x)) == (x, x, x)
    a, b = ember.Input((2,)), ember.Input((3,))
    out = ember.layers.Dense(1)(ember.layers.Concatenate()([a, b]))
    assert ember.utils.get_source_inputs(out) == [a, b]
    assert ember.utils.is_keras_tensor(out) and ember.utils.standardize_dtype("float64") == "float64"
    assert callable(ember.utils.legacy.serialize_keras_object)


# ---- keras.initializers.STFT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"side": "imag"}, {"window": "hamming", "scaling": "spectrum", "periodic": True}, {"window": None}],
)
def test_stft_initializer_matches_keras(kwargs, keras):
    ours = ember.initializers.STFT(**kwargs)((8, 1, 5)).numpy()
    theirs = np.asarray(keras.initializers.STFT(**kwargs)((8, 1, 5)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert isinstance(ember.initializers.get("stft"), ember.initializers.STFT)
