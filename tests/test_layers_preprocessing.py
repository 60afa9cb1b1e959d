"""Preprocessing layers vs real Keras 3 (KERAS_BACKEND=torch).

Keras 3's StringLookup, IntegerLookup and TextVectorization need TensorFlow, which is
not installed: those are checked against the examples in Keras's own docstrings and
its documented rules (vocabulary order, idf formula). The numeric layers and the
image transforms are compared with Keras directly.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle")

import ember  # noqa: E402
from ember.data import Dataset  # noqa: E402
from ember.layers import (  # noqa: E402
    CategoryEncoding,
    IntegerLookup,
    Normalization,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    StringLookup,
    TextVectorization,
)


def knp(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# ---- lookups (Keras docstring examples) ------------------------------------------------
def test_string_lookup_docstring_examples():
    vocab = ["a", "b", "c", "d"]
    data = [["a", "c", "d"], ["d", "z", "b"]]
    assert StringLookup(vocabulary=vocab)(data).numpy().tolist() == [[1, 3, 4], [4, 0, 2]]
    assert StringLookup(vocabulary=vocab, num_oov_indices=2)(data).numpy().tolist()[0] == [2, 4, 5]
    layer = StringLookup()
    layer.adapt(np.array(data))
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    mh = StringLookup(vocabulary=vocab, output_mode="multi_hot")(data).numpy()
    np.testing.assert_array_equal(mh, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    cnt = StringLookup(vocabulary=vocab, output_mode="count")([["a", "c", "d", "d"], ["d", "z", "b", "z"]]).numpy()
    np.testing.assert_array_equal(cnt, [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    oh = StringLookup(vocabulary=vocab, output_mode="one_hot")(["a", "b", "c", "d", "z"]).numpy()
    np.testing.assert_array_equal(oh, np.eye(5)[[1, 2, 3, 4, 0]])
    tfidf = StringLookup(vocabulary=vocab, output_mode="tf_idf", idf_weights=[0.25, 0.75, 0.6, 0.4])(
        [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    ).numpy()
    np.testing.assert_allclose(tfidf, [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    inv = StringLookup(vocabulary=vocab, invert=True)([[1, 3, 4], [4, 0, 2]])
    assert inv.tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    masked = StringLookup(vocabulary=vocab, mask_token="")([["a", "", "d"]]).numpy()
    assert masked.tolist() == [[2, 0, 5]]


def test_integer_lookup_docstring_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    assert IntegerLookup(vocabulary=vocab)(data).numpy().tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    # two OOV slots: 1000 % 2 == 0 -> slot 0
    assert IntegerLookup(vocabulary=vocab, num_oov_indices=2)(data).numpy().tolist() == [[2, 4, 5], [5, 0, 3]]
    inv = IntegerLookup(vocabulary=vocab, invert=True)(np.array([[1, 3, 4], [4, 0, 2]]))
    assert inv.numpy().tolist() == [[12, 1138, 42], [42, -1, 36]]
    cfg = IntegerLookup(vocabulary=vocab).get_config()
    assert {"max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary", "output_mode"} <= set(cfg)
    with pytest.raises(ValueError, match="all inputs should be in vocabulary"):
        IntegerLookup(vocabulary=vocab, num_oov_indices=0)(data)
    with pytest.raises(ValueError, match="repeated"):
        IntegerLookup(vocabulary=[1, 1])


# ---- TextVectorization -------------------------------------------------------------------------
def test_text_vectorization_docstring_examples_and_order():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]]).numpy()
    assert out.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    vocab = ["earth", "wind", "and", "fire"]
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4, vocabulary=vocab)
    assert layer([["earth wind and also fire"]]).numpy().tolist() == [[2, 3, 4, 1]]
    # frequency order, ties broken by the token (high to low), '' and '[UNK]' first
    layer = TextVectorization()
    layer.adapt(np.array(["The cat, the HAT.", "a cat"]))
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "hat", "a"]
    assert layer.vocabulary_size() == 6
    assert layer(["a hat the dog"]).numpy().tolist() == [[5, 4, 2, 1]]


def test_text_vectorization_modes_ngrams_tfidf_and_dataset():
    docs = ["the cat sat", "the dog sat down", "a cat"]
    mh = TextVectorization(output_mode="multi_hot")
    mh.adapt(docs)
    v = mh.get_vocabulary()
    assert v[0] == "[UNK]" and "" not in v
    out = mh(["cat cat zebra"]).numpy()
    expected = np.zeros((1, len(v)))
    expected[0, [0, v.index("cat")]] = 1
    np.testing.assert_array_equal(out, expected)
    cnt = TextVectorization(output_mode="count", vocabulary=v[1:])
    expected[0, v.index("cat")] = 2
    np.testing.assert_array_equal(cnt(["cat cat zebra"]).numpy(), expected)
    tf = TextVectorization(output_mode="tf_idf")
    tf.adapt(docs)
    v = tf.get_vocabulary()
    idf = {t: np.log(1 + 3 / (1 + sum(t in d.split() for d in docs))) for t in v[1:]}
    got = tf(["the the cat"]).numpy()[0]
    np.testing.assert_allclose(got[v.index("the")], 2 * idf["the"], rtol=1e-6)
    np.testing.assert_allclose(got[v.index("cat")], idf["cat"], rtol=1e-6)
    ng = TextVectorization(ngrams=2)
    ng.adapt(["a b c"])
    assert set(ng.get_vocabulary()[2:]) == {"a", "b", "c", "a b", "b c"}
    assert ng(["a b"]).numpy().shape == (1, 3)
    # adapt from an ember.data Dataset (text, label) pairs, batched
    ds = Dataset.from_tensor_slices((np.array(docs), np.array([0, 1, 0]))).batch(2)
    from_ds = TextVectorization()
    from_ds.adapt(ds)
    from_list = TextVectorization()
    from_list.adapt(docs)
    assert from_ds.get_vocabulary() == from_list.get_vocabulary()
    cfg = from_list.get_config()
    assert cfg["standardize"] == "lower_and_strip_punctuation" and cfg["vocabulary_size"] == len(
        from_list.get_vocabulary()
    )
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="multi_hot", output_sequence_length=3)
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        from_list(np.array([["a", "b"]]))


# ---- numeric layers vs Keras -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["multi_hot", "one_hot", "count"])
def test_category_encoding_matches_keras(mode):
    for x in (np.array([0, 1, 1, 3]), np.array([[0, 1, 1], [3, 3, 2]]), np.array([[1], [2]])):
        k = keras.layers.CategoryEncoding(4, output_mode=mode)
        e = CategoryEncoding(4, output_mode=mode)
        np.testing.assert_array_equal(e(x).numpy(), knp(k(x)))
        assert e.compute_output_shape(x.shape) == k.compute_output_shape(x.shape)
    w = np.array([[0.5, 1, 2], [1, 1, 1.0]], dtype="float32")
    if mode == "count":
        x = np.array([[0, 1, 1], [3, 3, 2]])
        np.testing.assert_allclose(
            CategoryEncoding(4, "count")(x, count_weights=w).numpy(),
            knp(keras.layers.CategoryEncoding(4, "count")(x, count_weights=w)),
        )
    cfg = CategoryEncoding(4, output_mode=mode).get_config()
    assert cfg["num_tokens"] == 4 and cfg["output_mode"] == mode


@pytest.mark.parametrize("axis", [-1, None, (1, 2)])
def test_normalization_adapt_matches_keras(axis):
    rng = np.random.default_rng(0)
    x = rng.normal(3, 2, (64, 5, 3)).astype("float32")
    k, e = keras.layers.Normalization(axis=axis), Normalization(axis=axis)
    k.adapt(x)
    e.adapt(x)
    for kw, ew in zip(k.get_weights(), e.get_weights()):
        assert kw.shape == ew.shape
        np.testing.assert_allclose(ew, kw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e(x).numpy(), knp(k(x)), rtol=1e-5, atol=1e-5)
    # batches (an iterator of arrays, an ember Dataset): Keras's running combination of batch statistics
    # (Keras's own iterable path needs TensorFlow, absent here), which equals the full-data statistics
    batches = [x[:20], x[20:45], x[45:]]
    for data in (iter(batches), Dataset.from_tensor_slices(x).batch(20)):
        e2 = Normalization(axis=axis)
        e2.adapt(data)
        np.testing.assert_allclose(e2.get_weights()[0], k.get_weights()[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(e2.get_weights()[1], k.get_weights()[1], rtol=1e-4, atol=1e-5)


def test_normalization_fixed_stats_invert_and_gradient():
    x = np.arange(12, dtype="float32").reshape(4, 3)
    for invert in (False, True):
        k = keras.layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0], invert=invert)
        e = Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0], invert=invert)
        np.testing.assert_allclose(e(x).numpy(), knp(k(x)), rtol=1e-6)
        assert e.get_config()["mean"] == k.get_config()["mean"]
    t = ember.tensor(x, requires_grad=True)
    Normalization(mean=1.0, variance=4.0)(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.full_like(x, 0.5))
    model = ember.models.Sequential([ember.Input((3,)), Normalization(mean=0.0, variance=1.0), ember.layers.Dense(2)])
    assert model(x).shape == (4, 2)


def test_rescaling_matches_keras():
    x = np.arange(24, dtype="uint8").reshape(2, 2, 2, 3)
    for scale, offset in [(1 / 255, 0.0), (1 / 127.5, -1), (np.array([1.0, 2.0, 3.0]), 0.5)]:
        k, e = keras.layers.Rescaling(scale, offset), Rescaling(scale, offset)
        out = e(x)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), knp(k(x)), rtol=1e-6)
    assert Rescaling(0.5).get_config()["scale"] == 0.5


# ---- augmentation ------------------------------------------------------------------------------
IMAGES = np.random.default_rng(1).uniform(0, 255, (3, 9, 7, 2)).astype("float32")


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_transform_matches_keras(mode):
    import torch

    flips = np.array([True, False, True])
    k = keras.layers.RandomFlip(mode)
    kout = knp(k.transform_images(torch.tensor(IMAGES), {"flips": torch.tensor(flips).reshape(3, 1, 1, 1)}))
    e = RandomFlip(mode)
    np.testing.assert_array_equal(e._augment(ember.tensor(IMAGES), flips).numpy(), kout)


def _keras_affine(layer, transformation):
    import torch

    return knp(layer.transform_images(torch.tensor(IMAGES), transformation, training=True))


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_zoom_translation_transforms_match_keras(fill_mode, interpolation):
    import torch

    kw = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=7.0)
    x = ember.tensor(IMAGES)
    angles = np.array([30.0, -75.0, 140.0])
    k = keras.layers.RandomRotation(0.5, **kw)
    matrix = k._compute_affine_matrix(
        0.5,
        0.5,
        torch.tensor(angles, dtype=torch.float32),
        torch.zeros(3),
        torch.zeros(3),
        torch.ones(3),
        torch.zeros(3),
        torch.zeros(3),
        9,
        7,
    )
    kout = _keras_affine(k, {"rotation_matrix": matrix})
    eout = RandomRotation(0.5, **kw)._augment(x, angles).numpy()
    np.testing.assert_allclose(eout, kout, rtol=1e-4, atol=1e-3)
    hz, wz = np.array([[0.7], [1.3], [1.0]]), np.array([[1.2], [0.8], [0.6]])
    k = keras.layers.RandomZoom(0.5, 0.5, **kw)
    kout = _keras_affine(
        k, {"height_zoom": torch.tensor(hz, dtype=torch.float32), "width_zoom": torch.tensor(wz, dtype=torch.float32)}
    )
    eout = RandomZoom(0.5, 0.5, **kw)._augment(x, (hz[:, 0], wz[:, 0])).numpy()
    np.testing.assert_allclose(eout, kout, rtol=1e-4, atol=1e-3)
    shifts = np.array([[1.5, -2.0], [-3.25, 0.5], [0.0, 4.0]], dtype="float32")  # (dx, dy) pixels
    k = keras.layers.RandomTranslation(0.5, 0.5, **kw)
    kout = _keras_affine(k, {"translations": torch.tensor(shifts)})
    eout = RandomTranslation(0.5, 0.5, **kw)._augment(x, (shifts[:, 0], shifts[:, 1])).numpy()
    np.testing.assert_allclose(eout, kout, rtol=1e-4, atol=1e-3)


LAYERS = [
    lambda seed: RandomFlip(seed=seed),
    lambda seed: RandomRotation(0.2, seed=seed),
    lambda seed: RandomZoom(0.3, seed=seed),
    lambda seed: RandomTranslation(0.2, 0.2, seed=seed),
]


@pytest.mark.parametrize("make", LAYERS)
def test_augmentation_identity_at_inference_seeded_and_shapes(make):
    x = ember.tensor(IMAGES)
    layer = make(3)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), IMAGES)
    a = make(5)(x, training=True).numpy()
    b = make(5)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == IMAGES.shape and a.dtype == np.float32
    assert make(5)(ember.tensor(IMAGES[0]), training=True).shape == IMAGES[0].shape
    # in a model: predict is the identity, and fit runs through the layer
    model = ember.models.Sequential(
        [
            ember.Input((9, 7, 2)),
            make(1),
            ember.layers.Reshape((126,)) if hasattr(ember.layers, "Reshape") else ember.layers.Flatten(),
            ember.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(IMAGES / 255, np.zeros((3, 1)), epochs=1, verbose=0)
    pred = model.predict(IMAGES / 255, verbose=0)
    kernel, bias = model.layers[-1].get_weights()  # the augmentation is the identity: Dense on the flat images
    expected = (IMAGES / 255).reshape(3, 126).astype(np.float32) @ kernel + bias
    np.testing.assert_allclose(pred, expected, rtol=1e-5, atol=1e-6)


def test_augmentation_statistics_and_configs():
    x = np.zeros((400, 4, 4, 1), dtype="float32")
    x[:, :, 0, 0] = 1.0  # left column lit: a horizontal flip moves it right
    out = RandomFlip("horizontal", seed=0)(x, training=True).numpy()
    flipped = out[:, 0, -1, 0] == 1
    assert 0.4 < flipped.mean() < 0.6
    angles = RandomRotation(0.1, seed=0)._draw(ember.tensor(np.zeros((2000, 2, 2, 1), "float32")))
    assert angles.min() >= -36 and angles.max() <= 36 and abs(angles.mean()) < 2
    # translation by whole pixels with constant fill keeps the mass that stays inside
    img = np.ones((1, 6, 6, 1), "float32")
    moved = RandomTranslation(0.5, 0.5, fill_mode="constant")._augment(
        ember.tensor(img), (np.array([2.0]), np.array([0.0]))
    )
    assert moved.numpy().sum() == 24
    for e, k in [
        (RandomFlip("vertical", seed=1), keras.layers.RandomFlip("vertical", seed=1)),
        (RandomRotation(0.2, seed=1), keras.layers.RandomRotation(0.2, seed=1)),
        (RandomZoom(0.2, 0.1, seed=1), keras.layers.RandomZoom(0.2, 0.1, seed=1)),
        (RandomTranslation(0.2, 0.1, seed=1), keras.layers.RandomTranslation(0.2, 0.1, seed=1)),
    ]:
        ec, kc = e.get_config(), k.get_config()
        for key in set(kc) - {"name", "dtype", "trainable", "value_range", "bounding_box_format"}:
            assert key in ec, key
            assert ec[key] == (tuple(kc[key]) if isinstance(kc[key], list) else kc[key]), key
    with pytest.raises(ValueError, match="factor"):
        RandomRotation(2.0)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        RandomZoom(0.1, fill_mode="mirror2")
    with pytest.raises(ValueError, match="rank 3"):
        RandomFlip()(np.zeros((2, 2)), training=True)
