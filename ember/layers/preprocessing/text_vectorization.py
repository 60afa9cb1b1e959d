"""``TextVectorization``: raw strings -> token indices or bag-of-words vectors, with ``adapt``."""

from __future__ import annotations

import re

import numpy

from ..layer import Layer
from ._inputs import iter_adapt_batches, to_string_array
from .string_lookup import StringLookup

# the punctuation Keras strips (its regex's character class, minus nothing)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


class TextVectorization(Layer):
    """Turns strings into integer sequences or token vectors: standardize, split, n-grams, look up.

    Ember tensors hold numbers only, so inputs are a string, a list of strings or a
    NumPy string array of shape ``(batch,)`` or ``(batch, 1)``; outputs are Ember
    tensors. Use the layer on data before the model (or inside ``Dataset.map``).

    Shapes: ``(batch,)`` strings ->
        - ``"int"``: ``(batch, output_sequence_length)`` int64, padded with 0 (or, without
          ``output_sequence_length``, to the longest sequence in the batch);
        - ``"multi_hot"``, ``"count"``, ``"tf_idf"``: ``(batch, vocabulary_size)`` float32.

    The vocabulary (``get_vocabulary()``) is Keras's: ``""`` (padding, index 0) then
    ``"[UNK]"`` (index 1) in ``"int"`` mode (just ``"[UNK]"`` otherwise), then tokens by
    frequency, ties broken by the token, high to low.

    Args:
        max_tokens: the largest vocabulary size, padding and OOV included.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable on a NumPy string array.
        split: ``"whitespace"`` (default), ``"character"``, None, or a callable taking a
            1-D NumPy string array and returning a list of token lists.
        ngrams: None, an int n (all 1..n-grams) or a tuple of n-gram sizes.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: in ``"int"`` mode, pad or cut every sequence to this length.
        pad_to_max_tokens: in vector modes, make the last axis ``max_tokens`` long.
        vocabulary: strings or a file path; idf_weights: for ``"tf_idf"`` with a vocabulary.
        sparse, ragged: not supported by Ember (must be False).
        encoding: how bytes inputs are decoded (default ``"utf-8"``).

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["the cat sat", "the dog"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> layer(["The dog sat!"]).numpy().tolist()
        [[2, 4, 3, 0]]
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        modes = ("int", "multi_hot", "count", "tf_idf")
        if output_mode not in modes:
            raise ValueError(f"TextVectorization: unknown `output_mode` {output_mode!r}; expected one of {modes}")
        if not (
            standardize is None
            or callable(standardize)
            or standardize in ("lower_and_strip_punctuation", "lower", "strip_punctuation")
        ):
            raise ValueError(
                "TextVectorization: `standardize` must be None, a callable, 'lower_and_strip_punctuation', "
                f"'lower' or 'strip_punctuation'. Received: standardize={standardize!r}"
            )
        if not (split is None or callable(split) or split in ("whitespace", "character")):
            raise ValueError(
                f"TextVectorization: `split` must be None, a callable, 'whitespace' or 'character'. Received: {split!r}"
            )
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and ngrams > 0)
            or (isinstance(ngrams, (tuple, list)) and all(isinstance(n, int) for n in ngrams))
        ):
            raise ValueError(
                f"TextVectorization: `ngrams` must be None, an integer, or a tuple of integers. "
                f"Received: ngrams={ngrams}"
            )
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError(
                "TextVectorization: `output_sequence_length` must be either None or an integer when "
                f"`output_mode` is 'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "TextVectorization: `output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        if ragged:
            raise ValueError("TextVectorization: ragged=True is not supported by Ember (dense tensors only)")
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(name=name, **kwargs)
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = (
            tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else (tuple(ngrams) if ngrams is not None else None)
        )
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._ragged = ragged
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
            name=f"{self.name}_lookup",
        )
        self.built = True

    # ---- the text pipeline ----------------------------------------------------------
    def _standardized(self, text: numpy.ndarray) -> numpy.ndarray:
        mode = self._standardize
        if mode in ("lower", "lower_and_strip_punctuation"):
            text = numpy.char.lower(text)
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [_PUNCTUATION.sub("", s) for s in text.ravel().tolist()]
            text = numpy.array(flat, dtype=str).reshape(text.shape)
        if callable(mode):
            text = numpy.asarray(mode(text)).astype(str)
        return text

    def _tokens(self, text: numpy.ndarray) -> numpy.ndarray:
        """Strings ``(batch,)`` -> tokens ``(batch, longest)`` padded with ``""`` (the mask token);
        without ``split`` -> ``(batch, 1)``."""
        if self._split is None:
            docs = [[s] for s in text.ravel().tolist()]
        else:
            if text.ndim > 1:
                if text.shape[-1] != 1:
                    raise ValueError(
                        "TextVectorization: when tokenizing strings, the input rank must be 1 or the last "
                        f"shape dimension must be 1. Received: inputs.shape={text.shape} with rank={text.ndim}"
                    )
                text = text.reshape(text.shape[:-1])
            strings = text.ravel().tolist()
            if self._split == "whitespace":
                docs = [s.split() for s in strings]
            elif self._split == "character":
                docs = [list(s) for s in strings]
            else:
                docs = [[str(t) for t in toks] for toks in self._split(numpy.asarray(strings, dtype=str))]
        if self._ngrams is not None:
            docs = [_ngrams(d, self._ngrams) for d in docs]
        longest = max((len(d) for d in docs), default=0)
        out = numpy.full((len(docs), longest), "", dtype=object)
        for i, d in enumerate(docs):
            out[i, : len(d)] = d
        return out.astype(str) if out.size else numpy.zeros((len(docs), 0), dtype="<U1")

    def _preprocess(self, inputs) -> numpy.ndarray:
        text = to_string_array(inputs, f"TextVectorization '{self.name}'", self._encoding)
        if text.ndim == 0:
            text = text.reshape(1)
        return self._tokens(self._standardized(text))

    # ---- adapt and call ---------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and IDF weights in ``"tf_idf"`` mode) from ``data``: a list or
        array of strings, or an ``ember.data.Dataset`` / iterable of string batches (``(x, y)``
        elements use ``x``)."""
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via the `vocabulary` "
                "argument or `set_vocabulary()` method."
            )
        import collections

        counts, doc_counts, documents = collections.Counter(), collections.Counter(), 0
        for batch in iter_adapt_batches(data, steps):
            tokens = self._preprocess(batch)
            lookup._count(tokens, counts, doc_counts)
            documents += tokens.shape[0]
        counts.pop("", None)
        doc_counts.pop("", None)
        lookup._finalize(counts, doc_counts, documents)

    def __call__(self, inputs, *args, **kwargs):
        # strings are not tensors: tokenize and look up before the base class would convert them
        return self.call(inputs)

    def call(self, inputs):
        """Standardize, split, make n-grams and look up ``inputs`` (see the class docstring for shapes)."""
        tokens = self._preprocess(inputs)
        lookup = self._lookup_layer
        if self._output_mode != "int":
            return lookup._encode(lookup._lookup(tokens))
        indices = lookup._lookup(tokens) if tokens.size else numpy.zeros(tokens.shape, dtype=numpy.int64)
        length = self._output_sequence_length
        if length is not None:
            indices = indices[:, :length]
            if indices.shape[1] < length:
                indices = numpy.pad(indices, ((0, 0), (0, length - indices.shape[1])))
        return lookup._encode(indices)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup.vocabulary_size()
        return (input_shape[0], depth)

    # ---- vocabulary -----------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order (with ``""`` and ``"[UNK]"`` first unless told otherwise)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary's size, padding and OOV included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and IDF weights in ``"tf_idf"`` mode) directly."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def save_assets(self, dir_path) -> None:
        """Write the adapted vocabulary into a ``.keras`` file's assets (see ``IndexLookup.save_assets``)."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path) -> None:
        """Read the vocabulary from a ``.keras`` file's assets (see ``IndexLookup.load_assets``)."""
        self._lookup_layer.load_assets(dir_path)

    def get_config(self) -> dict:
        lookup = self._lookup_layer
        config = super().get_config()
        config.update(
            {
                "max_tokens": lookup.max_tokens,
                "standardize": self._standardize,
                "split": self._split,
                "ngrams": self._ngrams_arg,
                "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens,
                "sparse": lookup.sparse,
                "ragged": self._ragged,
                "vocabulary": lookup.get_config()["vocabulary"],
                "idf_weights": lookup.get_config()["idf_weights"],
                "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


def _ngrams(tokens: list, widths: tuple) -> list:
    """All n-grams of ``tokens`` for each n in ``widths``, joined by spaces, n by n (as ``tf.strings.ngrams``)."""
    out = []
    for n in widths:
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out
