"""Reuters newswire topics (Keras's ``keras.datasets.reuters``)."""

import json

import numpy as np

from . import _files, _sequences

__all__ = ["get_label_names", "get_word_index", "load_data"]

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # reuters.npz, sha256 Keras 3 pins
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # reuters_word_index.json, md5 Keras 3 pins

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
    "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
    "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Loads the Reuters newswire dataset: 11,228 newswires as word-index lists, 46 topics.

    Same conventions as ``imdb.load_data`` (frequency ranks, ``start_char``, ``oov_char``,
    ``index_from``, ``num_words``, ``skip_top``, ``maxlen`` drops sequences of length >= maxlen).
    All samples are shuffled with ``seed``; the last ``test_split`` fraction is the test set. No
    offline package carries it: ``reuters.npz`` comes from the cache (``$EMBER_HOME/datasets``) or
    is downloaded from Keras's URL and checked against Keras's sha256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x are object arrays of Python lists of ints,
        y int64 topic indices (see ``get_label_names()``).

    Example:
        >>> from ember.datasets import reuters
        >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)
        >>> len(x_train), len(x_test)
        (8982, 2246)
    """
    fpath = _files.get_file(path, ORIGIN_FOLDER + "reuters.npz", file_hash=FILE_HASH)
    f = _files.load_npz(fpath)
    flat, lengths = _sequences.to_flat(f["x"])
    labels = np.asarray(f["y"])
    order = np.arange(len(lengths))
    np.random.RandomState(seed).shuffle(order)
    flat, lengths = _sequences.take(flat, lengths, order)
    [(flat, lengths, labels)] = _sequences.apply_conventions(
        [(flat, lengths, labels[order])], num_words, skip_top, maxlen, start_char, oov_char, index_from
    )
    xs = _sequences.to_object_array(flat, lengths)
    idx = int(len(xs) * (1 - test_split))
    return (xs[:idx], labels[:idx]), (xs[idx:], labels[idx:])


def get_word_index(path="reuters_word_index.json"):
    """Keras's Reuters word index: a dict ``{word: rank}`` (add ``index_from`` for the sequences' indices)."""
    fpath = _files.get_file(path, ORIGIN_FOLDER + "reuters_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed by label."""
    return _LABEL_NAMES
