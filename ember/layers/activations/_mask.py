"""The mask rule of layers that keep their input's shape: the output carries the input's mask."""

from __future__ import annotations


def passthrough_mask(inputs, previous_mask=None):
    """The mask for the outputs of a shape-preserving layer.

    Keras hands ``compute_mask`` the mask attached to the first input when the
    layer's ``call`` takes no ``mask`` argument; Ember's base ``Layer`` passes
    None in that case, so this falls back to the input's own ``_keras_mask``.

    Returns:
        ``previous_mask`` when given, else the mask attached to ``inputs`` (or None).
    """
    if previous_mask is not None:
        return previous_mask
    return getattr(inputs, "_keras_mask", None)
