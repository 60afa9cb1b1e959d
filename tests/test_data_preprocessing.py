"""pad_sequences / to_categorical / normalize vs real Keras 3; Tokenizer vs Keras 2's documented behaviour."""

import os

import numpy as np
import pytest

from ember.data.preprocessing import normalize, pad_sequences, text_to_word_sequence, to_categorical
from ember.preprocessing.sequence import pad_sequences as keras_path_pad_sequences
from ember.preprocessing.text import Tokenizer, tokenizer_from_json

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", reason="Keras 3 is the oracle for pad_sequences/to_categorical/normalize")


SEQS = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10, 11]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 3, 7])
def test_pad_sequences_vs_keras(keras, padding, truncating, maxlen):
    kw = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    for seqs in (SEQS, [np.array(s, dtype=np.int64) for s in SEQS]):
        got = pad_sequences(seqs, **kw)
        want = keras.utils.pad_sequences(seqs, **kw)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    for dtype, value in (("float32", -1.5), ("int64", 9)):
        np.testing.assert_array_equal(
            pad_sequences(SEQS, dtype=dtype, value=value, **kw),
            keras.utils.pad_sequences(SEQS, dtype=dtype, value=value, **kw),
        )


def test_pad_sequences_vectors_strings_and_errors(keras):
    vec = [np.ones((2, 3)), np.full((4, 3), 2.0)]
    np.testing.assert_array_equal(
        pad_sequences(vec, maxlen=3, dtype="float32"), keras.utils.pad_sequences(vec, maxlen=3, dtype="float32")
    )
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        pad_sequences(words, dtype=object, value="<pad>"), keras.utils.pad_sequences(words, dtype=object, value="<pad>")
    )
    assert keras_path_pad_sequences is pad_sequences
    assert pad_sequences([]).shape == (0, 0) and pad_sequences([], maxlen=4).shape == (0, 4)
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences(SEQS, value="x")
    with pytest.raises(ValueError, match="non-iterable 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match=r"sequence 1 has elements of shape \(2,\), expected \(3,\)"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 2))], dtype="float32")


@pytest.mark.parametrize("labels, num_classes", [([0, 1, 2, 3], None), ([[1], [0], [3]], 5), ([[0, 2], [1, 1]], 3)])
def test_to_categorical_vs_keras(keras, labels, num_classes):
    got = to_categorical(labels, num_classes)
    want = keras.utils.to_categorical(labels, num_classes)
    assert got.shape == want.shape and got.dtype == np.float32  # Keras 3 gives float64 for NumPy; floatx here
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(to_categorical(np.asarray(labels, dtype=np.float64), num_classes), want)


def test_to_categorical_bad_labels():
    with pytest.raises(ValueError, match=r"label 7 at index 2 is outside \[0, 5\) for num_classes=5"):
        to_categorical([0, 1, 7], num_classes=5)
    with pytest.raises(ValueError, match=r"label -1 at index \(1, 0\) is outside"):
        to_categorical([[0, 1], [-1, 2]], num_classes=3)
    with pytest.raises(ValueError, match="label 1.5 at index 1 is not an integer"):
        to_categorical([1.0, 1.5])
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([])
    assert to_categorical([], num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("order", [1, 2, np.inf])
@pytest.mark.parametrize("axis", [-1, 1])
def test_normalize_vs_keras(keras, rng, order, axis):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    x[2] = 0  # a zero row stays zero
    got = normalize(x, axis=axis, order=order)
    want = keras.utils.normalize(x, axis=axis, order=order)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)  # same float32 formula; only summation order may differ


def test_normalize_axis0_and_errors(rng):
    x = rng.normal(size=(3, 5))
    np.testing.assert_allclose(normalize(x, axis=0), x / np.linalg.norm(x, axis=0, keepdims=True))
    assert normalize(np.array([[3, 4]])).dtype == np.float32
    np.testing.assert_allclose(normalize(np.array([[3, 4]])), [[0.6, 0.8]])
    with pytest.raises(ValueError, match=r"axis 2 is out of range for an array of shape \(3, 5\)"):
        normalize(x, axis=2)


# Keras 2 documented: filters default, lowercasing, split on spaces, word_index by descending frequency
# (ties in order of first appearance), index 0 reserved, num_words keeps indices < num_words, oov_token index 1.
TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "Cat, cat, CAT?"]


def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World!  Hello.") == ["hello", "world", "hello"]
    assert text_to_word_sequence("a-b c", filters="", lower=False) == ["a-b", "c"]
    assert text_to_word_sequence("A;b;;C", split=";", filters="") == ["a", "b", "c"]


def test_tokenizer_documented_behaviour():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.document_count == 3
    assert tok.word_counts["cat"] == 4 and tok.word_counts["the"] == 3
    assert tok.word_docs["cat"] == 2 and tok.word_docs["the"] == 2
    assert list(tok.word_index.items())[:3] == [("cat", 1), ("the", 2), ("sat", 3)]
    assert tok.index_word[1] == "cat"
    assert tok.texts_to_sequences(["the cat ate a fish"]) == [[2, 1, 7]]  # unknown words dropped (ate: 7th)
    assert tok.sequences_to_texts([[2, 1, 7]]) == ["the cat ate"]
    small = Tokenizer(num_words=3)
    small.fit_on_texts(TEXTS)
    assert small.texts_to_sequences(["the cat sat"]) == [[2, 1]]  # only indices < num_words
    oov = Tokenizer(num_words=4, oov_token="<unk>")
    oov.fit_on_texts(TEXTS)
    assert oov.word_index["<unk>"] == 1 and oov.word_index["cat"] == 2
    assert oov.texts_to_sequences(["the cat sat zebra"]) == [[3, 2, 1, 1]]
    chars = Tokenizer(char_level=True)
    chars.fit_on_texts(["aab"])
    assert chars.word_index == {"a": 1, "b": 2}


def test_tokenizer_matrix_and_json():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    seqs = tok.texts_to_sequences(TEXTS)
    n = len(tok.word_index) + 1
    binary, count = tok.texts_to_matrix(TEXTS, "binary"), tok.texts_to_matrix(TEXTS, "count")
    assert binary.shape == (3, n) and count[2, 1] == 3 and binary[2, 1] == 1 and count[0, 2] == 2
    np.testing.assert_allclose(tok.texts_to_matrix(TEXTS, "freq")[0, 2], 2 / 6)
    tfidf = tok.sequences_to_matrix(seqs, "tfidf")
    np.testing.assert_allclose(tfidf[2, 1], (1 + np.log(3)) * np.log(1 + 3 / (1 + 2)), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown mode"):
        tok.texts_to_matrix(TEXTS, "sum")
    back = tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index and back.texts_to_sequences(TEXTS) == seqs


def test_tokenizer_vs_keras_legacy(keras):
    legacy = pytest.importorskip("keras.src.legacy.preprocessing.text", reason="Keras 3's legacy Tokenizer")
    corpus = TEXTS + ["a b c a b a", "Dog dog; the END", "tabs\tand\nnewlines"]
    for kw in ({}, {"num_words": 5}, {"num_words": 5, "oov_token": "<oov>"}, {"lower": False}):
        ours, theirs = Tokenizer(**kw), legacy.Tokenizer(**kw)
        ours.fit_on_texts(corpus)
        theirs.fit_on_texts(corpus)
        assert ours.word_index == theirs.word_index
        assert ours.texts_to_sequences(corpus) == theirs.texts_to_sequences(corpus)
        for mode in ("binary", "count", "freq", "tfidf"):
            np.testing.assert_allclose(
                ours.texts_to_matrix(corpus, mode), theirs.texts_to_matrix(corpus, mode), rtol=1e-6
            )  # fmt: skip  (float32 here, float64 in Keras)
