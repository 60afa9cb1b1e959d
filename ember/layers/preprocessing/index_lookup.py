"""``IndexLookup``: the vocabulary table behind ``StringLookup``, ``IntegerLookup`` and ``TextVectorization``.

Not exported: use one of those three. Vocabulary layout (Keras's): the mask
token (index 0, only when ``mask_token`` is set and ``output_mode="int"``),
then ``num_oov_indices`` OOV slots, then the learned or given tokens. ``adapt``
orders tokens by count, ties broken by the token itself, high to low.

The lookup runs on the host (tokens may be strings, which Ember tensors cannot
hold); the encoded outputs are Ember tensors made with Ember ops.
"""

from __future__ import annotations

import collections
import os
import zlib

import numpy

from ...backend.config import floatx
from ...engine.tensor import Tensor
from ..layer import Layer
from ._encoding import OUTPUT_MODES, encode_categorical
from ._inputs import iter_adapt_batches, to_host_array, to_string_array


class IndexLookup(Layer):
    """Maps tokens to integer indices through a vocabulary (base of the lookup layers).

    Args:
        max_tokens: the largest vocabulary size, mask and OOV slots included (None: no cap).
        num_oov_indices: how many OOV slots; 0 makes unknown tokens an error, more than
            one spreads them over the slots (integers by ``token % num_oov_indices``,
            strings by a CRC-32 hash: Keras uses FarmHash there, so the slot an unknown
            string lands in differs from Keras's).
        mask_token: the token that means "padding"; index 0 in ``"int"`` mode, dropped otherwise.
        oov_token: the token ``invert=True`` returns for OOV indices.
        vocabulary_dtype: ``"string"`` or an integer dtype name.
        vocabulary: a list/array of tokens or a path to a text file with one per line.
        idf_weights: with ``output_mode="tf_idf"`` and a given vocabulary, one weight per token.
        invert: map indices back to tokens (``"int"`` mode only).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: in the vector modes, make the last axis ``max_tokens`` long.
        sparse: not supported (Ember has dense tensors only); must be False.
    """

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        name=None,
        salt=None,
        **kwargs,
    ):
        cls = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{cls}: if set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: pad_to_max_tokens=True needs `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(
                f"{cls}: `num_oov_indices` must be greater than or equal to 0. Received: "
                f"num_oov_indices={num_oov_indices}"
            )
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{cls}: unknown `output_mode` {output_mode!r}; expected one of {OUTPUT_MODES}")
        if invert and output_mode != "int":
            raise ValueError(
                f"{cls}: `output_mode` must be 'int' when `invert` is true. Received: output_mode={output_mode}"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                f"{cls}: `idf_weights` should only be set if `output_mode` is 'tf_idf'. Received: "
                f"output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(f"{cls}: sparse=True is not supported by Ember (dense tensors only)")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: `oov_method` must be 'floormod' or 'farmhash'. Received: {oov_method!r}")
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(name=name, **kwargs)
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.vocabulary_dtype = vocabulary_dtype
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = vocabulary is not None
        self._tokens = []
        self._table = {}
        self.idf_weights = None
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(
                f"{cls}: when specifying the `vocabulary` argument in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ---- the vocabulary -----------------------------------------------------------
    @property
    def _is_string(self) -> bool:
        return self.vocabulary_dtype == "string"

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _as_tokens(self, values, where) -> numpy.ndarray:
        if self._is_string:
            return to_string_array(values, where)
        a = to_host_array(values)
        if a.dtype.kind not in "iub":
            if a.dtype.kind == "f" and a.size and numpy.all(numpy.floor(a) == a):
                return a.astype(self.vocabulary_dtype)
            raise TypeError(f"{where}: expected integer tokens, got dtype {a.dtype}")
        return a.astype(self.vocabulary_dtype)

    def _set_tokens(self, tokens) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._table = {t: i + start for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def vocabulary_size(self) -> int:
        """The number of indices the layer outputs: mask and OOV slots plus the tokens."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order; with ``include_special_tokens`` the mask/OOV tokens lead it."""
        tokens = [self._py(t) for t in self._tokens]
        if not include_special_tokens:
            return tokens
        oov_start = self._oov_start_index()
        return [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices + tokens

    def _py(self, token):
        return str(token) if self._is_string else int(token)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and, in ``"tf_idf"`` mode, the IDF weights) directly instead of adapting.

        Args:
            vocabulary: tokens (list, tuple, array, tensor) or a path to a file with one per line.
                It may start with the mask and OOV tokens in Keras's order; other than
                there, they must not appear.
            idf_weights: one float per vocabulary entry, required in ``"tf_idf"`` mode.
        """
        cls = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{cls}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{cls}: `idf_weights` should only be set if output_mode is 'tf_idf'. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.exists(vocabulary):
                raise ValueError(f"{cls}: vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError(f"{cls}: output_mode 'tf_idf' does not support loading a vocabulary from file.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines if self._is_string else [int(v) for v in lines]
        vocab = self._as_tokens(list(vocabulary) if isinstance(vocabulary, tuple) else vocabulary, cls)
        if vocab.ndim != 1 or vocab.size == 0:
            raise ValueError(f"{cls}: expected a non-empty 1-D vocabulary. Received: vocabulary={vocabulary}")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        head = [self._py(t) for t in vocab[:token_start]]
        tokens = vocab[token_start:] if head == special and len(head) == token_start else vocab
        uniq, counts = numpy.unique(tokens, return_counts=True)
        repeated = [self._py(t) for t in uniq[counts > 1]]
        if repeated:
            raise ValueError(
                f"{cls}: the passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        listed = [self._py(t) for t in tokens]
        if self.mask_token is not None and self.mask_token in listed:
            raise ValueError(
                f"{cls}: found reserved mask token at unexpected location in `vocabulary`. Either remove "
                f"all mask and OOV tokens, or include them only at the start of the vocabulary in "
                f"precisely this order: {special}. Received: mask_token={self.mask_token!r} at vocabulary "
                f"index {listed.index(self.mask_token)}"
            )
        if self.oov_token is not None and self.invert and self.oov_token in listed:
            raise ValueError(
                f"{cls}: found reserved OOV token at unexpected location in `vocabulary`. Received: "
                f"oov_token={self.oov_token!r} at vocabulary index {listed.index(self.oov_token)}"
            )
        size = token_start + len(listed)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(
                f"{cls}: attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {size}; `max_tokens` is {self.max_tokens}."
            )
        self._set_tokens(tokens.tolist())
        if self.output_mode == "tf_idf":
            idf = numpy.asarray(idf_weights.numpy() if isinstance(idf_weights, Tensor) else idf_weights, dtype=float)
            if idf.ndim != 1 or len(idf) != len(vocab):
                raise ValueError(
                    f"{cls}: `idf_weights` must be 1-D and as long as the vocabulary. len(idf_weights) is "
                    f"{idf.size}; len(vocabulary) is {len(vocab)}"
                )
            if len(vocab) == len(listed):  # no special tokens given: their weight is the average
                idf = numpy.concatenate([numpy.full(token_start, idf.mean()), idf])
            self._set_idf(idf)

    # ---- assets (the vocabulary inside a .keras file) ------------------------------
    def save_assets(self, dir_path) -> None:
        """Write the adapted vocabulary to ``dir_path/vocabulary.txt`` (Keras's asset), one token a line.

        A vocabulary given in the constructor is in the config instead (as Keras does). In ``"tf_idf"`` mode
        the IDF weights go beside it in ``idf_weights.txt`` (Ember's own asset).
        """
        if self.input_vocabulary is not None or not self._tokens:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            numpy.savetxt(os.path.join(dir_path, "idf_weights.txt"), numpy.asarray(self.idf_weights), fmt="%.9g")

    def load_assets(self, dir_path) -> None:
        """Read the vocabulary that ``save_assets`` (or Keras) wrote into a ``.keras`` file's ``assets/``."""
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        cls = type(self).__name__
        try:
            tokens = lines if self._is_string else [int(v) for v in lines]
        except ValueError as err:
            raise ValueError(
                f"{cls} '{self.name}': vocabulary.txt holds a line that is not an integer ({err})"
            ) from None
        idf = None
        if self.output_mode == "tf_idf":
            idf_path = os.path.join(dir_path, "idf_weights.txt")
            if not os.path.isfile(idf_path):
                raise ValueError(
                    f"{cls} '{self.name}': output_mode 'tf_idf' needs the IDF weights, which this file does not "
                    "hold (Ember writes them to idf_weights.txt beside vocabulary.txt)"
                )
            idf = numpy.atleast_1d(numpy.loadtxt(idf_path, dtype=float))[: len(tokens)]  # without the padding
        self.set_vocabulary(tokens, idf_weights=idf)

    def _set_idf(self, idf) -> None:
        if self.pad_to_max_tokens and self.max_tokens is not None and len(idf) < self.max_tokens:
            idf = numpy.concatenate([idf, numpy.zeros(self.max_tokens - len(idf))])
        self.idf_weights = idf.astype(floatx())

    # ---- adapt ------------------------------------------------------------------
    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary from ``data``: an array or list of tokens (each entry a document of
        one token; a 2-D array has one document per row), or an ``ember.data.Dataset`` / iterable of
        batches (a 1-D batch is one document, as in Keras). In ``"tf_idf"`` mode also learns each
        token's inverse document frequency ``log(1 + documents / (1 + documents with the token))``.
        """
        cls = type(self).__name__
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' ({cls}) after setting a static vocabulary via the "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        counts, doc_counts, documents = collections.Counter(), collections.Counter(), 0
        single = isinstance(data, (numpy.ndarray, Tensor, list, tuple, str, bytes))
        for batch in iter_adapt_batches(data, steps):
            docs = self._as_tokens(batch, f"{cls}.adapt")
            if docs.ndim == 0:
                docs = docs.reshape(1, 1)
            elif docs.ndim == 1:
                docs = docs[:, None] if single else docs[None, :]
            self._count(docs, counts, doc_counts)
            documents += docs.shape[0]
        self._finalize(counts, doc_counts, documents)

    def _count(self, docs, counts, doc_counts) -> None:
        flat = docs.reshape(-1)
        uniq, n = numpy.unique(flat, return_counts=True)
        counts.update(dict(zip(uniq.tolist(), n.tolist())))
        if self.output_mode == "tf_idf":
            rows = docs.reshape(docs.shape[0], -1)
            for row in rows:
                doc_counts.update(set(row.tolist()))

    def _finalize(self, counts, doc_counts, documents) -> None:
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        if not counts:
            self._set_tokens([])
            return
        tokens = numpy.array(list(counts.keys()))
        n = numpy.array(list(counts.values()))
        order = numpy.lexsort((tokens, n))[::-1]
        if self.max_tokens:
            order = order[: self.max_tokens - self._token_start_index()]
        tokens = tokens[order]
        self._set_tokens(tokens.tolist())
        if self.output_mode == "tf_idf":
            df = numpy.array([doc_counts[t] for t in tokens.tolist()], dtype=float)
            idf = numpy.log(1 + documents / (1 + df)).astype(floatx())
            idf = numpy.concatenate([numpy.full(self._token_start_index(), idf.mean(dtype=floatx())), idf])
            self._set_idf(idf)

    # ---- lookups ------------------------------------------------------------------
    def _lookup(self, tokens: numpy.ndarray) -> numpy.ndarray:
        """Token array -> int64 index array (mask -> 0 in int mode, -1 (dropped) otherwise)."""
        cls = type(self).__name__
        uniq, inverse = numpy.unique(tokens, return_inverse=True)
        uniq_list = uniq.tolist()
        found = numpy.array([self._table.get(t, -1) for t in uniq_list], dtype=numpy.int64)
        is_mask = numpy.zeros(len(uniq_list), dtype=bool)
        if self.mask_token is not None:
            is_mask = numpy.array([t == self.mask_token for t in uniq_list], dtype=bool)
        oov = (found < 0) & ~is_mask
        if oov.any():
            if self.num_oov_indices == 0:
                raise ValueError(
                    f"{cls} '{self.name}': when `num_oov_indices=0` all inputs should be in vocabulary, "
                    f"found OOV values {[self._py(t) for t in uniq[oov]]}, consider setting `num_oov_indices=1`."
                )
            if self.num_oov_indices == 1:
                found[oov] = self._oov_start_index()
            else:
                found[oov] = self._oov_start_index() + self._oov_slot(uniq[oov])
        found[is_mask] = 0 if self.output_mode == "int" else -1
        return found[inverse.reshape(-1)].reshape(tokens.shape)

    def _oov_slot(self, tokens) -> numpy.ndarray:
        if not self._is_string and self.oov_method == "floormod":
            return numpy.mod(tokens.astype(numpy.int64), self.num_oov_indices)
        return numpy.array(
            [zlib.crc32(str(t).encode("utf-8")) % self.num_oov_indices for t in tokens.tolist()], dtype=numpy.int64
        )

    def _invert(self, indices: numpy.ndarray):
        vocab = numpy.array(self.get_vocabulary(), dtype=object)
        idx = indices.astype(numpy.int64)
        bad = (idx < 0) | (idx >= len(vocab))
        out = vocab[numpy.where(bad, 0, idx)]
        out[bad] = self.oov_token
        if self.mask_token is not None:
            out[idx == 0] = self.mask_token
        if self._is_string:
            return out.astype(str)
        return Tensor(out.astype(self.vocabulary_dtype))

    def _encode(self, indices: numpy.ndarray):
        """Indices -> the layer's output Tensor for its ``output_mode``."""
        if self.output_mode == "int":
            return Tensor(indices.astype(numpy.int64))
        self._ensure_known_vocab_size()
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(Tensor(indices.astype(numpy.int64)), mode, depth, dtype=floatx())
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(
                    f"{type(self).__name__}: when `output_mode` is 'tf_idf', `idf_weights` must be provided."
                )
            out = out * Tensor(self.idf_weights)
        return out

    def _ensure_known_vocab_size(self) -> None:
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if not self._frozen_vocab_size:
            raise RuntimeError(
                f"{type(self).__name__} '{self.name}': when using `output_mode={self.output_mode}` and "
                "`pad_to_max_tokens=False`, you must set the layer's vocabulary before calling it. Either pass "
                "a `vocabulary` argument to the layer, or call `adapt` with some sample data."
            )

    def __call__(self, inputs, *args, **kwargs):
        # tokens may be strings, which are not tensors: look them up before the base class sees them
        return self.call(inputs)

    def call(self, inputs):
        """Look ``inputs`` up: tokens -> indices (or encoded vectors); with ``invert``, indices -> tokens."""
        cls = type(self).__name__
        if self.invert:
            return self._invert(to_host_array(inputs))
        tokens = self._as_tokens(inputs, f"{cls} '{self.name}'")
        return self._encode(self._lookup(tokens))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot" and (len(input_shape) == 0 or input_shape[-1] != 1):
            return tuple(input_shape) + (depth,)
        return tuple(input_shape)[:-1] + (depth,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "invert": self.invert,
                "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token,
                "mask_token": self.mask_token,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method,
                "salt": self.salt,
            }
        )
        return config


def _listify(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Tensor):
        value = value.numpy()
    return numpy.asarray(value).tolist()
