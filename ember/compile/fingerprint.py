"""``fingerprint(model)``: everything a traced step or forward depends on besides the batch and weight values.

A plan replays the operations its trace recorded, so it is valid only while
nothing that decided those operations has changed. The fingerprint collects,
for the model and every layer under it (recursively):

- the layer object and its ``trainable`` flag;
- its variables (identity and ``trainable``): a rebuild, ``Sequential.add``,
  a frozen or unfrozen layer change the list of trainable weights;
- each attribute of the layer, ``None`` ones aside (a first call sets some
  lazily): numbers, strings and booleans (and short tuples/lists of them)
  by value (a Dropout ``rate``, a BatchNormalization ``momentum``,
  ``return_sequences``), anything else (activations and other functions,
  arrays and tensors, sublayers, initializers) by identity;

and the backend's settings that ops read while tracing (floatx, epsilon,
image data format, ``EMBER_DEVICE``). The trainer's own bookkeeping (the
optimizer, history, compiled loss and metrics) is left out: ``compile``
starts a new compiled function anyway, and a step reads the optimizer's
hyperparameters when it runs.

Computing it walks every layer's ``__dict__`` (tens of microseconds for a
small model), so ``fit`` takes it when it starts, at each epoch and after a
user callback's batch hook, and ``predict`` once per call, not per batch.
"""

from __future__ import annotations

import numbers
import os

from ..backend import config as _config
from ..backend.keras_api import image_data_format

# attributes that are bookkeeping (of training, of summary()), not part of what a step computes
_IGNORED = frozenset(
    {
        "optimizer",
        "compiled",
        "stop_training",
        "history",
        "loss",
        "jit_compile",
        "run_eagerly",
        "_compiled_loss",
        "_compiled_metrics",
        "_loss_tracker",
        "_train_function",
        "_predict_function",
        "_initial_epoch",
        "_fit_batches",
        "_first_output_shapes",
        "_losses",  # the losses of the last call (add_loss, activity regularizers), replaced at each call
        "_dropout_mask",  # the recurrent layers' per-call mask caches
        "_recurrent_dropout_mask",
        # a layer's identity, checks and graph bookkeeping: nothing its call computes with
        "name",
        "_tracking",
        "_inbound_nodes",
        "_call_signature",
        "_tracked_metrics",
        "input_spec",
    }
)
_SCALARS = frozenset({bool, int, float, complex, str, bytes, type(None)})  # compared by value (exact types: fast)


def fingerprint(model) -> tuple:
    """A hashable summary of what ``model``'s plans were traced from (see the module docstring)."""
    parts = []
    append = parts.append
    stack = [model]
    seen = set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        append((id(layer), getattr(layer, "trainable", None)))
        for v in getattr(layer, "_trainable_variables", ()):
            append((id(v), v.trainable))
        for v in getattr(layer, "_non_trainable_variables", ()):
            append((id(v), v.trainable))
        for name, value in vars(layer).items():
            kind = type(value)
            if kind in _SCALARS:  # the common case, kept without a call
                if value is not None and name not in _IGNORED:  # None: set lazily by a first call, look alike
                    append((name, value))
            elif name not in _IGNORED:
                append((name, _value_key(value)))
        stack.extend(reversed(getattr(layer, "_layers", ())))
    settings = (_config.floatx(), _config.epsilon(), image_data_format(), os.environ.get("EMBER_DEVICE", "cpu"))
    return tuple(parts), settings


def _value_key(value):
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        if len(value) <= 16:
            for v in value:
                if type(v) not in _SCALARS:
                    break
            else:
                return (kind.__name__, *value)
        return ("id", id(value))
    number = _IS_NUMBER.get(kind)
    if number is None:  # NumPy scalars and other numbers compare by value (the ABC check once per type)
        number = _IS_NUMBER[kind] = issubclass(kind, numbers.Number)
    return value if number else ("id", id(value))


_IS_NUMBER = {}
