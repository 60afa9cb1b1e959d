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
A :class:`Snapshot` taken before it holds every object it read by identity:
``snapshot.holds(model)`` (a few microseconds) says that none was replaced,
so the fingerprint is still the same without computing it again.
"""

from __future__ import annotations

import numbers
import operator
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
    for layer in _walk(model):
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
    return tuple(parts), _settings()


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


def _walk(model):
    """``model`` and every layer under it (through ``_layers``), each once, depth first."""
    return model._flatten_layers()


def _settings() -> tuple:
    return _config.floatx(), _config.epsilon(), image_data_format(), os.environ.get("EMBER_DEVICE", "cpu")


class ModelWatch:
    """Tells whether anything :func:`fingerprint` reads from ``model`` changed since the last look.

    ``changed()`` computes the fingerprint only when the :class:`Snapshot` taken with the last one no longer
    holds (a few microseconds when nothing was replaced).
    """

    def __init__(self, model):
        self.model = model
        self.fingerprint = fingerprint(model)
        self.snapshot = None

    def changed(self) -> bool:
        """Whether the fingerprint differs from the one at the last call (or at construction)."""
        if self.snapshot is not None and self.snapshot.holds(self.model):
            return False
        self.snapshot = Snapshot(self.model)  # before the fingerprint: a change in between shows next time
        key, self.fingerprint = self.fingerprint, fingerprint(self.model)
        return key != self.fingerprint

    def __getstate__(self):
        return dict(self.__dict__, snapshot=None)  # (its getters cannot be copied; a copy takes a new one)


_IS = operator.is_
_TRAINABLE = operator.attrgetter("trainable")
_WALKED = ("_layers", "_trainable_variables", "_non_trainable_variables")  # lists the walk reads


class Snapshot:
    """Every object :func:`fingerprint` reads from ``model``, held by identity.

    Per layer of the walk: the values of its attributes (those the fingerprint
    reads), the contents of the lists among them that change in place
    (``_layers``, the variable lists, lists of plain values such as strides);
    and the variables' ``trainable`` flags and the backend settings. While all
    of those are the same objects, the fingerprint is the same: any write of
    such an attribute (even of an equal value), a list changed in place, a
    variable frozen or a new setting make :meth:`holds` false, and the caller
    computes the fingerprint. Take the snapshot *before* the fingerprint it
    vouches for: a change in between then shows at the next check.
    """

    __slots__ = ("model", "layers", "variables", "flags", "settings")

    def __init__(self, model):
        self.model = model
        self.layers = []
        variables = []
        for layer in _walk(model):
            attributes = vars(layer)
            names = tuple(name for name in attributes if name not in _IGNORED)
            lists = tuple(
                (name, tuple(value))
                for name in names
                if type(value := attributes[name]) is list and (name in _WALKED or _plain(value))
            )
            if any(name not in attributes and getattr(layer, name, ()) for name in _WALKED):
                self.layers = None  # the walk reads something that is not an attribute (a property): no shortcut
                break
            getter = operator.itemgetter(*names) if len(names) != 1 else (lambda a, name=names[0]: (a[name],))
            self.layers.append((layer, len(attributes), getter, getter(attributes) if names else (), lists))
            variables += getattr(layer, "_trainable_variables", ())
            variables += getattr(layer, "_non_trainable_variables", ())
        self.variables = tuple(variables)
        self.flags = tuple(map(_TRAINABLE, variables))
        self.settings = _settings()

    def holds(self, model) -> bool:
        """Whether every object :func:`fingerprint` would read from ``model`` is the one seen when taken."""
        if model is not self.model or self.layers is None or _settings() != self.settings:
            return False
        try:
            for layer, count, getter, values, lists in self.layers:
                attributes = vars(layer)
                if len(attributes) != count or (values and not all(map(_IS, getter(attributes), values))):
                    return False
                for name, contents in lists:
                    items = attributes[name]
                    if len(items) != len(contents) or not all(map(_IS, items, contents)):
                        return False
        except KeyError:  # an attribute was deleted (and another added)
            return False
        return tuple(map(_TRAINABLE, self.variables)) == self.flags


def _plain(items) -> bool:
    """Whether the fingerprint reads the list ``items`` by value (a short list of plain values)."""
    return len(items) <= 16 and all(type(v) in _SCALARS for v in items)
