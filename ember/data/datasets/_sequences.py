"""Keras's word-index sequence conventions (imdb, reuters), vectorised on a flat index array.

A split is held as ``flat`` (all sequences' word ranks, 1 = most frequent word, concatenated) and
``lengths``; the Keras transforms (start character, index offset, maxlen filter, num_words/skip_top
with an out-of-vocabulary character) run on the flat array, and only the result becomes Keras's
object array of Python lists.
"""

import numpy as np

__all__ = ["apply_conventions", "take", "to_flat", "to_object_array"]


def to_flat(sequences):
    """(flat int64 array, lengths) from a sequence of integer sequences."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter((w for s in sequences for w in s), dtype=np.int64, count=int(lengths.sum()))
    return flat, lengths


def take(flat, lengths, order):
    """The sequences ``order`` (indices) of a flat split, in that order."""
    starts = np.cumsum(lengths) - lengths
    new_lengths = lengths[order]
    total = int(new_lengths.sum())
    # Position of each output element in ``flat``: its sequence's start plus its offset inside it.
    new_starts = np.cumsum(new_lengths) - new_lengths
    offsets = np.arange(total, dtype=np.int64) - np.repeat(new_starts, new_lengths)
    return flat[np.repeat(starts[order], new_lengths) + offsets], new_lengths


def _prepend(flat, lengths, value):
    """Insert ``value`` at the start of every sequence."""
    starts = np.cumsum(lengths) - lengths
    return np.insert(flat, starts, value), lengths + 1


def apply_conventions(splits, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    """Keras's ``load_data`` steps after shuffling, applied to each ``(flat, lengths, labels)`` split.

    As in Keras 3: ranks are shifted by ``index_from`` and ``start_char`` is prepended (when not
    None); with ``maxlen``, sequences of length >= maxlen (start character included) are dropped;
    ``num_words`` falsy means the largest index seen, and an index ``w`` is kept when
    ``skip_top <= w < num_words`` (so, like Keras, the largest index itself becomes ``oov_char``
    when ``num_words`` is None), else replaced by ``oov_char`` or dropped when that is None.
    Returns the list of transformed ``(flat, lengths, labels)``.
    """
    out = []
    for flat, lengths, labels in splits:
        if start_char is not None:
            flat, lengths = _prepend(flat + index_from, lengths, start_char)
        elif index_from:
            flat = flat + index_from
        if maxlen:
            keep = np.flatnonzero(lengths < maxlen)
            flat, lengths = take(flat, lengths, keep)
            labels = labels[keep]
        out.append((flat, lengths, labels))
    if not num_words:
        num_words = max((int(f.max()) for f, _, _ in out if f.size), default=0)
    result = []
    for flat, lengths, labels in out:
        inside = (flat >= skip_top) & (flat < num_words)
        if oov_char is not None:
            flat = np.where(inside, flat, oov_char)
        else:
            seq_id = np.repeat(np.arange(len(lengths)), lengths)
            lengths = np.bincount(seq_id[inside], minlength=len(lengths)).astype(np.int64)
            flat = flat[inside]
        result.append((flat, lengths, labels))
    return result


def to_object_array(flat, lengths):
    """Keras's format: a 1-D object array whose items are Python lists of ints."""
    items = flat.tolist()
    out = np.empty(len(lengths), dtype=object)
    pos = 0
    for i, n in enumerate(lengths.tolist()):
        out[i] = items[pos : pos + n]
        pos += n
    return out
