"""``CallbackList``: one object that forwards every hook to a list of callbacks.

The trainer talks to a single ``CallbackList``; it adds the ``History`` and
``ProgbarLogger`` every ``fit`` has, hands each callback the model and the run's
parameters, and turns the logs into a flat dict of Python floats (keys sorted,
as Keras does) before any callback sees them.
"""

from __future__ import annotations

from .callback import Callback, is_default
from .history import History
from .progbar_logger import ProgbarLogger


def _flatten(callbacks):
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten(cb))
        else:
            out.append(cb)
    return out


def pythonify_logs(logs) -> dict:
    """A flat copy of ``logs`` with sorted keys and Python floats for values.

    Nested dicts are merged into the result; a value that ``float()`` accepts
    (a NumPy scalar, a one-element tensor) becomes a float, anything else is
    kept as it is.
    """
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except Exception:  # arrays of outputs, strings: kept as they are
            pass
        result[key] = value
    return result


class CallbackList(Callback):
    """A container that calls each of its callbacks' hooks in order.

    Args:
        callbacks: a list (nested lists are flattened) of :class:`Callback`, or None.
        add_history: add a :class:`History` at the end unless the list has one.
        add_progbar: add a :class:`ProgbarLogger` at the end unless the list has one.
        model: the model the callbacks act on; given to each through ``set_model``
            (and the ``History`` becomes ``model.history``).
        **params: the run's parameters (``verbose``, ``epochs``, ``steps``); when
            given, each callback receives them through ``set_params``.

    Example:
        >>> callbacks = CallbackList([EarlyStopping()], add_history=True, model=model,
        ...                          verbose=1, epochs=10, steps=100)
        >>> callbacks.on_train_begin()
        >>> for epoch in range(10):
        ...     callbacks.on_epoch_begin(epoch)
        ...     ...
        ...     callbacks.on_epoch_end(epoch, {"loss": loss})
        >>> callbacks.on_train_end()
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks) if callbacks else []
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"CallbackList: expected instances of ember.callbacks.Callback, got {type(cb).__name__}: {cb!r}"
                )
        self._history = None
        self._progbar = None
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback):
        """Add one callback at the end (it gets the current model and params)."""
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self.callbacks.append(callback)

    def set_params(self, params):
        """Store ``params`` and pass them to every callback (when not empty)."""
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        """Give every callback the model; the ``History`` becomes ``model.history``."""
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def overrides(self, hook: str) -> bool:
        """Whether any callback overrides ``hook`` (e.g. ``'on_train_batch_end'``).

        A trainer can skip building per-batch logs when no callback reads them.
        The legacy ``on_batch_*`` aliases count for ``on_train_batch_*``.
        """
        names = [hook]
        if hook.startswith("on_train_batch_"):
            names.append(hook.replace("on_train_batch_", "on_batch_"))
        return any(not is_default(getattr(cb, name)) for cb in self.callbacks for name in names)

    # Keras passes logs by keyword to the batch hooks and by position to the others;
    # callbacks written for Keras may rely on either, so the same is done here.

    def _call_batch_hook(self, hook, batch, logs):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(batch, logs=logs)

    def _call_hook(self, hook, *args):
        *head, logs = args
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*head, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_predict_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call_hook("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call_hook("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs=None):
        self._call_hook("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call_hook("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call_hook("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call_hook("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call_hook("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call_hook("on_predict_end", logs)
