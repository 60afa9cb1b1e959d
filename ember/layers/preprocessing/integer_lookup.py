"""``IntegerLookup``: integer tokens -> contiguous indices (or one-hot / multi-hot / count / TF-IDF vectors)."""

from __future__ import annotations

from .index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps arbitrary integers (ids, years, codes) to contiguous indices through a vocabulary.

    Inputs are integer arrays, lists or Ember tensors; outputs are Ember tensors (int64
    indices in ``"int"`` mode, float vectors otherwise; ``invert=True`` maps indices back
    to the integer tokens). The lookup runs on the host, before the model.

    Args:
        max_tokens: the largest vocabulary size, mask and OOV slots included.
        num_oov_indices: OOV slots (default 1); with more, an unknown ``x`` goes to slot
            ``x % num_oov_indices`` (``oov_method="floormod"``, Keras's default).
        mask_token: an integer mapped to 0 in ``"int"`` mode (default None).
        oov_token: the integer ``invert=True`` returns for OOV indices (default -1).
        vocabulary: integers, or a path to a text file with one per line.
        vocabulary_dtype: ``"int64"`` (default) or ``"int32"``.
        idf_weights, invert, output_mode, sparse, pad_to_max_tokens, oov_method, salt: as ``IndexLookup``.

    Example:
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer([[12, 1138, 42], [42, 1000, 36]]).numpy().tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(
                f"IntegerLookup: `vocabulary_dtype` must be 'int32' or 'int64'. Received: {vocabulary_dtype!r}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            vocabulary_dtype=vocabulary_dtype,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )
