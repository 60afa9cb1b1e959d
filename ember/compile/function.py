"""``CompiledFunction``: what the compiled train step and the compiled forward share.

Both keep a table of plans keyed on the batch's signature (its nesting, shapes and dtypes), watch the model
(:class:`~ember.compile.fingerprint.ModelWatch`: any change that could change the traced operations drops
the table), and say once per reason when batches run eagerly (:func:`say_eager`).
"""

from __future__ import annotations

import logging
import os
import warnings

from .fingerprint import ModelWatch


class CompiledFunction:
    """A model's plans per input signature (``plans``: signature -> plan, traces so far, or why it stays eager).

    Subclasses define ``__call__`` and ``eager``, what a message on a fallback starts with.
    """

    eager = "the compiled function: batches run eagerly"
    loud = False  # warn (not only log) when batches run eagerly

    def __init__(self, model):
        self.model = model
        self.plans = {}
        self.warned = set()
        self.watch = ModelWatch(model)

    def __getstate__(self):
        # the plans hold this process's arrays and generated code: a copy traces again
        return dict(self.__dict__, plans={})

    def _warn(self, reason, stacklevel=5) -> None:
        """Say once per reason that batches run eagerly."""
        if reason not in self.warned:
            self.warned.add(reason)
            say_eager(self.eager, reason, self.loud, stacklevel)


def say_eager(eager, reason, loud=False, stacklevel=4) -> None:
    """``<eager>: <reason>`` (why batches run eagerly), logged to the ``ember.compile`` logger at INFO (silent by
    default, as Keras is) and warned when ``loud`` (``jit_compile=True`` asked for it) or ``EMBER_VERBOSE`` is set."""
    message = f"{eager}: {reason}"
    logging.getLogger("ember.compile").info(message)
    if loud or os.environ.get("EMBER_VERBOSE", "0") not in ("", "0"):
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)


def signature(structure, flat) -> tuple:
    """A batch's signature: the nesting of ``structure`` (keys, lengths) and the shapes and dtypes of its arrays."""
    return nesting(structure), tuple((a.shape, a.dtype.str) for a in flat)


def nesting(s):
    """The nesting of ``s`` (keys, lengths), without its arrays."""
    if isinstance(s, dict):
        return ("dict", tuple((k, nesting(v)) for k, v in s.items()))
    if isinstance(s, (list, tuple)):
        return (type(s).__name__, tuple(nesting(v) for v in s))
    return None if s is None else "array"
