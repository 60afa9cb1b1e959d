"""Integer indices -> one-hot / multi-hot / count vectors, with Ember ops (shared by the lookup layers)."""

from __future__ import annotations

from ... import ops

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def encode_categorical(indices, output_mode, depth, dtype="float32", count_weights=None):
    """Encode integer ``indices`` (an int Tensor) over ``depth`` classes.

    Shapes (as Keras's ``encode_categorical_inputs``):
        - ``one_hot``: ``(..., n)`` -> ``(..., n, depth)``, except a trailing axis of
          size 1 is replaced: ``(..., 1)`` -> ``(..., depth)``; a scalar -> ``(depth,)``.
        - ``multi_hot`` / ``count``: ``(..., n)`` -> ``(..., depth)``; the last axis is
          the sample (a 1-D input is one sample). ``count_weights`` (same shape as
          ``indices``) weights each occurrence in ``count`` mode.
    Returns:
        a float Tensor (``dtype``).
    """
    if output_mode == "int":
        return ops.cast(indices, dtype)
    if indices.ndim == 0:
        indices = ops.expand_dims(indices, -1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = ops.squeeze(indices, -1)
        return ops.one_hot(indices, depth, dtype=dtype)
    encoded = ops.one_hot(indices, depth, dtype=dtype)
    if output_mode == "multi_hot":
        return ops.max(encoded, axis=-2)
    if output_mode == "count":
        if count_weights is not None:
            encoded = encoded * ops.expand_dims(ops.cast(count_weights, dtype), -1)
        return ops.sum(encoded, axis=1 if indices.ndim > 1 else 0)
    raise ValueError(f"encode_categorical: unknown output_mode {output_mode!r}; expected one of {OUTPUT_MODES}")
