"""Keras 2 spellings the seeds use (``output_dim``, ``init``, ``nb_filter``, ...), renamed with a warning."""

from __future__ import annotations

import os
import sys
import warnings

_EMBER_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside Ember (the user's line)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_EMBER_ROOT):
        frame = frame.f_back
        level += 1
    return level


# old keyword -> the Keras 3 keyword that replaced it
LEGACY_KWARGS = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
    "nb_filter": "filters",
    "subsample": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format",
    "p": "rate",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
    "inner_init": "recurrent_initializer",
    "inner_activation": "recurrent_activation",
}


def rename_legacy_kwargs(layer_name: str, kwargs: dict, allowed: tuple) -> dict:
    """Move Keras 2 keywords in ``kwargs`` to their Keras 3 names (those in ``allowed``), warning once each.

    Raises:
        TypeError: when both the old and the new keyword are given.
    """
    for old, new in LEGACY_KWARGS.items():
        if old in kwargs and new in allowed:
            if new in kwargs:
                raise TypeError(f"{layer_name}: got both `{old}` (Keras 2) and `{new}`; pass only `{new}`")
            warnings.warn(
                f"{layer_name}: `{old}` is the Keras 2 name; use `{new}` instead",
                DeprecationWarning,
                stacklevel=caller_stacklevel(),
            )
            kwargs[new] = kwargs.pop(old)
    return kwargs
