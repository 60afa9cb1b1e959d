"""``StringLookup``: strings -> integer indices (or one-hot / multi-hot / count / TF-IDF vectors)."""

from __future__ import annotations

from .index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings to indices through a vocabulary given or learned with ``adapt``.

    Ember tensors hold numbers only: inputs are Python strings, lists of them or NumPy
    string arrays, and outputs are Ember tensors (int64 indices in ``"int"`` mode,
    float vectors otherwise). With ``invert=True`` the layer maps indices back to a
    NumPy string array. Use it on data before the model (or in ``Dataset.map``),
    not inside a functional model.

    Shapes: ``(...)`` strings -> ``(...)`` int64 (``"int"``), ``(..., n)`` ->
    ``(..., vocabulary_size)`` (``"multi_hot"``, ``"count"``, ``"tf_idf"``).

    Args:
        max_tokens: the largest vocabulary size, mask and OOV slots included.
        num_oov_indices: OOV slots (default 1); unknown strings map to index ``num_oov_indices`` ... .
        mask_token: a padding token mapped to 0 in ``"int"`` mode (default None: none).
        oov_token: the string for OOV indices with ``invert=True`` (default ``"[UNK]"``).
        vocabulary: strings, or a path to a text file with one per line.
        idf_weights, invert, output_mode, pad_to_max_tokens, sparse: as ``IndexLookup``.
        encoding: how bytes inputs are decoded (default ``"utf-8"``).

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy().tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            vocabulary_dtype="string",
            name=name,
            salt=salt,
            **kwargs,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
