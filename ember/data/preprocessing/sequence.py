"""``pad_sequences``: variable-length sequences to one 2-D array (Keras's function and defaults)."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or truncate) each sequence to ``maxlen`` and stack them: shape ``(len(sequences), maxlen)``.

    Args:
        sequences: a list of sequences (lists or 1-D arrays of numbers; elements may themselves be arrays of one
            common shape, which then follows the time axis in the result).
        maxlen: the output length; default the longest sequence.
        dtype: the output dtype (``object`` or a string dtype to pad strings).
        padding: ``"pre"`` or ``"post"``: where the padding goes.
        truncating: ``"pre"`` or ``"post"``: which end of a too-long sequence is dropped.
        value: the padding value.

    Example::

        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
        array([[0, 1],
               [2, 3],
               [5, 6]], dtype=int32)

    Scalar sequences are placed with one vectorised scatter (no per-sequence slicing); an empty list gives
    shape ``(0, maxlen or 0)``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding must be "pre" or "post", got {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating must be "pre" or "post", got {truncating!r}')
    is_str_dtype = dtype is not object and np.issubdtype(np.dtype(dtype), np.character)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"pad_sequences: dtype {dtype} cannot hold the string padding value {value!r}; use dtype=object"
        )
    try:
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    except TypeError as e:
        bad = next(s for s in sequences if not hasattr(s, "__len__"))
        raise ValueError(f"pad_sequences: sequences must be a list of iterables, found non-iterable {bad!r}") from e
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    maxlen = int(maxlen)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be non-negative, got {maxlen}")
    first = next((s for s in sequences if len(s)), None)
    sample_shape = np.asarray(first).shape[1:] if first is not None else ()
    n = len(sequences)
    x = np.full((n, maxlen) + sample_shape, value, dtype=dtype)
    if n == 0 or maxlen == 0 or lengths.sum() == 0:
        return x
    if sample_shape == () and dtype is not object and not is_str_dtype:
        flat = _flatten_scalars(sequences, lengths)
        if flat is not None:
            _scatter(x, flat.astype(dtype, copy=False), lengths, maxlen, padding, truncating)
            return x
    for i, s in enumerate(sequences):  # sequences of vectors, strings or objects
        if not len(s):
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: sequence {i} has elements of shape {trunc.shape[1:]}, expected {sample_shape} "
                "(the shape of the first non-empty sequence's elements)"
            )
        if padding == "post":
            x[i, : len(trunc)] = trunc
        else:
            x[i, maxlen - len(trunc) :] = trunc
    return x


def _flatten_scalars(sequences, lengths):
    """All elements in one 1-D array, or None if some element is not a scalar."""
    if all(isinstance(s, np.ndarray) and s.ndim == 1 for s in sequences):
        return np.concatenate(sequences)
    flat = np.asarray(list(itertools.chain.from_iterable(sequences)))
    return flat if flat.ndim == 1 and flat.dtype != object and len(flat) == lengths.sum() else None


def _scatter(x, flat, lengths, maxlen, padding, truncating):
    """Place every kept element at (sequence, position) in one fancy assignment."""
    seq = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(len(flat)) - starts[seq]  # position within its own sequence
    keep_len = np.minimum(lengths, maxlen)
    dropped = lengths - keep_len  # how many a too-long sequence loses
    if truncating == "pre":
        pos = pos - dropped[seq]
    keep = (pos >= 0) & (pos < keep_len[seq])
    offset = 0 if padding == "post" else maxlen - keep_len
    col = pos + (offset[seq] if padding == "pre" else 0)
    x[seq[keep], col[keep]] = flat[keep]
