"""Keras 2's text utilities: ``text_to_word_sequence`` and ``Tokenizer`` (word index by frequency).

Keras 3 keeps them only as legacy code; these follow the behaviour Keras 2 documented. For a layer inside a
model, ``TextVectorization`` is the modern tool.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict, defaultdict

import numpy as np

from ...backend.config import floatx

__all__ = ["text_to_word_sequence", "Tokenizer", "tokenizer_from_json"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Split a text into words: lowercase (if ``lower``), replace every character of ``filters`` by ``split``,
    split on ``split`` and drop empty strings.

    >>> text_to_word_sequence("Hello, World!  Hello.")
    ['hello', 'world', 'hello']
    """
    if lower:
        input_text = input_text.lower()
    if filters:
        input_text = input_text.translate(str.maketrans(dict.fromkeys(filters, split)))
    return [w for w in input_text.split(split) if w]


class Tokenizer:
    """Turns texts into sequences of word indices (1 = the most frequent word; 0 is never a word).

    Args:
        num_words: keep only the ``num_words - 1`` most frequent words when converting (indices below
            ``num_words``); ``word_index`` still holds every word. None: keep all.
        filters: characters removed from texts (each becomes a separator).
        lower: lowercase texts first.
        split: the word separator.
        char_level: every character is a token.
        oov_token: if given, it gets index 1 and replaces words outside the vocabulary (or beyond
            ``num_words``) in ``texts_to_sequences``; without it such words are dropped.

    Attributes after ``fit_on_texts``: ``word_counts`` (word → count, in order of first appearance),
    ``word_docs`` (word → number of texts containing it), ``word_index`` (word → index, by decreasing count,
    ties in order of first appearance), ``index_word``, ``index_docs``, ``document_count``.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, document_count=0):  # fmt: skip
        if num_words is not None and int(num_words) < 0:
            raise ValueError(f"Tokenizer: num_words must be non-negative or None, got {num_words}")
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self.index_docs = defaultdict(int)

    def _words(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count words in ``texts`` (strings, or lists of tokens) and rebuild ``word_index``."""
        if isinstance(texts, str):
            raise ValueError("Tokenizer.fit_on_texts: expected a list of texts, got a single string")
        for text in texts:
            self.document_count += 1
            seq = self._words(text)
            counts = Counter(seq)
            for w in seq:  # first-appearance order matters for ties
                if w not in self.word_counts:
                    self.word_counts[w] = 0
            for w, c in counts.items():
                self.word_counts[w] += c
                self.word_docs[w] += 1
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)  # stable: ties keep order
        vocab = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in ranked]
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})

    def fit_on_sequences(self, sequences):
        """Count, for each index, the number of sequences containing it (needed by ``sequences_to_matrix``'s
        tfidf mode when the tokenizer was not fitted on texts)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (see ``num_words`` and ``oov_token``)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        limit = self.num_words
        for text in texts:
            out = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and (not limit or i < limit):
                    out.append(i)
                elif oov is not None:
                    out.append(oov)
            yield out

    def sequences_to_texts(self, sequences):
        """Each sequence of indices back to a space-joined text (same ``num_words``/``oov_token`` rules)."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        limit = self.num_words
        texts = []
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(i)
                if w is not None and (not limit or i < limit):
                    words.append(w)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts

    def texts_to_matrix(self, texts, mode="binary"):
        """``sequences_to_matrix(texts_to_sequences(texts), mode)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A ``(len(sequences), num_words)`` matrix (``num_words`` default: ``len(word_index) + 1``).

        ``mode``: ``"binary"`` (1 if present), ``"count"``, ``"freq"`` (count / sequence length) or ``"tfidf"``
        (``(1 + log count) * log(1 + document_count / (1 + docs containing the word))``).
        """
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"Tokenizer.sequences_to_matrix: unknown mode {mode!r}; use binary, count, tfidf or freq")
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise ValueError("Tokenizer.sequences_to_matrix: set num_words or fit the tokenizer first")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer.sequences_to_matrix: tfidf needs a tokenizer fitted on data")
        x = np.zeros((len(sequences), num_words), dtype=floatx())
        for row, seq in enumerate(sequences):
            if not seq:
                continue
            ids, counts = np.unique(np.asarray(seq, dtype=np.int64), return_counts=True)
            keep = ids < num_words
            ids, counts = ids[keep], counts[keep].astype(np.float64)
            if mode == "count":
                x[row, ids] = counts
            elif mode == "freq":
                x[row, ids] = counts / len(seq)
            elif mode == "binary":
                x[row, ids] = 1
            else:
                docs = np.array([self.index_docs.get(int(j), 0) for j in ids], dtype=np.float64)
                x[row, ids] = (1 + np.log(counts)) * np.log(1 + self.document_count / (1 + docs))
        return x

    def get_config(self):
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """The tokenizer's configuration and vocabulary as JSON (read back with ``tokenizer_from_json``)."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """A ``Tokenizer`` from ``Tokenizer.to_json()`` output."""
    config = dict(json.loads(json_string)["config"])
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tok = Tokenizer(**config)
    tok.word_counts = OrderedDict(word_counts)
    tok.word_docs = defaultdict(int, word_docs)
    tok.index_docs = defaultdict(int, index_docs)
    tok.index_word = index_word
    tok.word_index = word_index
    return tok
